//! The simulator inventory in CloudStack shapes.
