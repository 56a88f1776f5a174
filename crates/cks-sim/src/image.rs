//! ISO registration with a simulated download: the URL is validated, never fetched, and the ISO
//! reports progress until it is `Ready` after the configured delay.

use std::sync::Arc;

use cks_core::iaas::{Iso, IsoState, Vm, Zone, same_owner};

use crate::inventory::Inventory;
use crate::seed::stable_id;
use crate::{Shared, new_id};
use cks_cloud::CloudError;
use cks_cloud::IsoSpec;

/// CloudStack's limit on `registerIso url`.
pub const MAX_URL_CHARS: usize = 2048;
/// Progress reports per simulated download.
const STEPS: u32 = 4;
/// Size reported for a downloaded ISO: the URL is never fetched, so the size is made up.
const SIMULATED_SIZE_BYTES: u64 = 512 * 1024 * 1024;

fn validate_url(url: &str) -> Result<(), CloudError> {
    if url.chars().count() > MAX_URL_CHARS {
        return Err(CloudError::invalid(format!(
            "URL is longer than {MAX_URL_CHARS} characters"
        )));
    }
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("http://")
        .or_else(|| lower.strip_prefix("https://"));
    match rest {
        None => Err(CloudError::invalid(format!(
            "Unsupported scheme for url: {url}"
        ))),
        Some(rest)
            if rest.is_empty() || rest.starts_with('/') || url.chars().any(char::is_whitespace) =>
        {
            Err(CloudError::invalid(format!(
                "Please specify a valid URL. URL:{url} is invalid"
            )))
        }
        Some(_) => Ok(()),
    }
}

/// A hex digest, optionally prefixed with its algorithm (`{MD5}`, `{SHA-256}`...).
fn validate_checksum(checksum: &str) -> Result<(), CloudError> {
    let digest = match checksum
        .strip_prefix('{')
        .and_then(|rest| rest.split_once('}'))
    {
        Some((_algorithm, digest)) => digest,
        None => checksum,
    };
    let ok =
        matches!(digest.len(), 32 | 40 | 64 | 128) && digest.bytes().all(|b| b.is_ascii_hexdigit());
    match ok {
        true => Ok(()),
        false => Err(CloudError::invalid(format!(
            "Checksum {checksum} is not a valid hex digest"
        ))),
    }
}

/// Registers the ISO, or finds the owner's ISO of that name in that zone. Returns it and whether
/// it is new (and so needs a download).
pub(crate) fn register(
    inv: &mut Inventory,
    spec: &IsoSpec,
    now: i64,
) -> Result<(Iso, bool), CloudError> {
    if spec.name.trim().is_empty() {
        return Err(CloudError::invalid("ISO name must not be empty"));
    }
    validate_url(&spec.url)?;
    if let Some(checksum) = &spec.checksum {
        validate_checksum(checksum)?;
    }
    if let Some(zone_id) = &spec.zone_id {
        inv.need::<Zone>(zone_id)?;
    }
    let existing = inv.find::<Iso>(|i| {
        i.name == spec.name && i.zone_id == spec.zone_id && same_owner(&i.owner, &spec.owner)
    });
    if let Some(iso) = existing {
        if iso.url != spec.url {
            return Err(CloudError::invalid(format!(
                "An ISO named {} is already registered from another URL",
                spec.name
            )));
        }
        return Ok((iso.clone(), false));
    }
    let os_type_name = spec
        .os_type_name
        .clone()
        .unwrap_or_else(|| "Other (64-bit)".into());
    let iso = Iso {
        id: new_id(),
        name: spec.name.clone(),
        display_text: spec
            .display_text
            .clone()
            .unwrap_or_else(|| spec.name.clone()),
        url: spec.url.clone(),
        checksum: spec.checksum.clone(),
        zone_id: spec.zone_id.clone(),
        bootable: spec.bootable,
        is_public: spec.is_public,
        is_featured: spec.is_featured,
        is_extractable: spec.is_extractable,
        arch: spec.arch.clone().unwrap_or_else(|| "x86_64".into()),
        state: IsoState::Downloading,
        status: "0% Downloaded".into(),
        size_bytes: None,
        os_type_id: stable_id("ostype", &os_type_name),
        os_type_name,
        owner: spec.owner.clone(),
        tags: spec.tags.clone(),
        created: now,
    };
    inv.put(iso.clone());
    Ok((iso, true))
}

/// Fails while a VM has the ISO attached.
pub(crate) fn delete(inv: &mut Inventory, id: &str) -> Result<bool, CloudError> {
    let Some(iso) = inv.get::<Iso>(id) else {
        return Ok(false);
    };
    if let Some(vm) = inv.find::<Vm>(|vm| vm.iso_id.as_deref() == Some(id)) {
        return Err(CloudError::invalid(format!(
            "Unable to delete ISO {}: it is attached to VM {}",
            iso.name, vm.name
        )));
    }
    inv.remove::<Iso>(id);
    Ok(true)
}

/// Completes a download whose timer was lost with the instance that ran it.
pub(crate) fn finish_download(inv: &mut Inventory, id: &str) -> Result<bool, CloudError> {
    progress(inv, id, STEPS)
}

/// Moves a download to `step` of `STEPS`. `false` when there is nothing left to do.
fn progress(inv: &mut Inventory, id: &str, step: u32) -> Result<bool, CloudError> {
    let Some(mut iso) = inv.get::<Iso>(id).cloned() else {
        return Ok(false);
    };
    if iso.state != IsoState::Downloading {
        return Ok(false);
    }
    if step < STEPS {
        iso.status = format!("{}% Downloaded", step * 100 / STEPS);
    } else {
        iso.state = IsoState::Ready;
        iso.status = "Successfully Installed".into();
        iso.size_bytes = Some(SIMULATED_SIZE_BYTES);
    }
    inv.put(iso);
    Ok(step < STEPS)
}

/// Runs the simulated download of an ISO in the background. The task holds the simulator
/// weakly and ends when the simulator is dropped; a reopened simulator restarts the download.
pub(crate) fn spawn_download(shared: &Arc<Shared>, id: String) {
    let weak = Arc::downgrade(shared);
    let delay = shared.timings.iso_download;
    let first_step = if delay.is_zero() { STEPS } else { 1 };
    tokio::spawn(async move {
        for step in first_step..=STEPS {
            if !delay.is_zero() {
                tokio::time::sleep(delay / STEPS).await;
            }
            let Some(shared) = weak.upgrade() else { return };
            match shared.mutate(|inv| progress(inv, &id, step)).await {
                Ok(true) => continue,
                Ok(false) => return,
                Err(e) => {
                    tracing::warn!(iso = %id, error = %e, "simulated ISO download failed to record progress");
                    return;
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_http_or_https_and_short() {
        assert!(validate_url("https://127.0.0.1/iso/k8s.iso").is_ok());
        assert!(validate_url("HTTP://127.0.0.1/k8s.iso").is_ok());
        assert!(validate_url("ftp://127.0.0.1/k8s.iso").is_err());
        assert!(validate_url("file:///etc/passwd").is_err());
        assert!(validate_url("https://").is_err());
        let long = format!("https://127.0.0.1/{}", "a".repeat(MAX_URL_CHARS));
        assert!(validate_url(&long).is_err());
    }

    #[test]
    fn checksums_are_hex_digests_with_optional_algorithm() {
        assert!(validate_checksum("d41d8cd98f00b204e9800998ecf8427e").is_ok());
        assert!(validate_checksum("{MD5}d41d8cd98f00b204e9800998ecf8427e").is_ok());
        assert!(validate_checksum(&format!("{{SHA-256}}{}", "ab".repeat(32))).is_ok());
        assert!(validate_checksum("xyz").is_err());
    }
}
