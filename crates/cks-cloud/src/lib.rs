//! The Cloud trait (the IaaS nouns cks orchestrates) and the embedded simulator that implements it.
