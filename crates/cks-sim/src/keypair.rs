//! SSH key pairs in the inventory: unique names per owner, CloudStack's duplicate texts.

use cks_core::iaas::{SshKeyPair, same_owner};
use cks_core::tenancy::Owner;

use crate::inventory::Inventory;
use crate::keys::{self, PublicKey};
use crate::new_id;
use cks_cloud::CloudError;

pub(crate) fn validate_name(name: &str) -> Result<(), CloudError> {
    match name.trim().is_empty() {
        true => Err(CloudError::invalid(
            "Please specify a valid name for the key pair",
        )),
        false => Ok(()),
    }
}

pub(crate) fn find<'a>(inv: &'a Inventory, name: &str, owner: &Owner) -> Option<&'a SshKeyPair> {
    inv.find::<SshKeyPair>(|k| k.name == name && same_owner(&k.owner, owner))
}

/// Stores a generated key pair's public half.
pub(crate) fn insert_generated(
    inv: &mut Inventory,
    name: &str,
    owner: &Owner,
    public: PublicKey,
    now: i64,
) -> Result<SshKeyPair, CloudError> {
    validate_name(name)?;
    if find(inv, name, owner).is_some() {
        return Err(CloudError::invalid(format!(
            "A key pair with name '{name}' already exists."
        )));
    }
    let pair = SshKeyPair {
        id: new_id(),
        name: name.to_string(),
        fingerprint: public.fingerprint,
        public_key: public.openssh,
        owner: owner.clone(),
        created: now,
    };
    inv.put(pair.clone());
    Ok(pair)
}

pub(crate) fn register(
    inv: &mut Inventory,
    name: &str,
    public_key: &str,
    owner: &Owner,
    now: i64,
) -> Result<SshKeyPair, CloudError> {
    validate_name(name)?;
    let public =
        keys::parse_public_key(public_key).map_err(|e| CloudError::invalid(e.to_string()))?;
    if let Some(existing) = find(inv, name, owner) {
        if existing.fingerprint == public.fingerprint {
            return Ok(existing.clone());
        }
        return Err(CloudError::invalid(format!(
            "A key pair with name '{name}' already exists for this account."
        )));
    }
    let same_key = inv
        .find::<SshKeyPair>(|k| k.fingerprint == public.fingerprint && same_owner(&k.owner, owner));
    if same_key.is_some() {
        return Err(CloudError::invalid(format!(
            "A key pair with key '{}' already exists for this account.",
            public.openssh
        )));
    }
    let pair = SshKeyPair {
        id: new_id(),
        name: name.to_string(),
        fingerprint: public.fingerprint,
        public_key: public.openssh,
        owner: owner.clone(),
        created: now,
    };
    inv.put(pair.clone());
    Ok(pair)
}

pub(crate) fn delete(inv: &mut Inventory, name: &str, owner: &Owner) -> Result<bool, CloudError> {
    let Some(id) = find(inv, name, owner).map(|k| k.id.clone()) else {
        return Ok(false);
    };
    Ok(inv.remove::<SshKeyPair>(&id))
}
