//! Flash partitions.

use ws63_sdk_sys as sdk;

use crate::error::{Error, SdkError};

/// The partitions the firmware asks about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartitionId {
    /// The running application (`PARTITION_APP_IMAGE`).
    App,
    /// Where update packages are stored (`PARTITION_FOTA_DATA`).
    FotaData,
}

impl PartitionId {
    fn raw(self) -> sdk::partition_ids_t {
        match self {
            PartitionId::App => sdk::PARTITION_APP_IMAGE,
            PartitionId::FotaData => sdk::PARTITION_FOTA_DATA,
        }
    }
}

/// Where a partition is: a flash offset (without the 0x200000 mapping base) and a size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    /// Flash offset.
    pub offset: u32,
    /// Size in bytes.
    pub size: u32,
}

/// The partition's place in flash.
///
/// # Errors
/// The SDK's code (`ERRCODE_PARTITION_CONFIG_NOT_FOUND` when the table lacks it), or
/// `InvalidArgument` for a partition stored by path (not used on the WS63).
pub fn info(id: PartitionId) -> Result<Partition, Error> {
    let mut raw = sdk::partition_information_t::default();
    // SAFETY: `raw` is a valid, writable partition_information_t.
    SdkError::check(unsafe { sdk::uapi_partition_get_info(id.raw(), &mut raw) })?;
    if raw.type_ != sdk::PARTITION_BY_ADDRESS {
        return Err(Error::InvalidArgument("partition stored by path"));
    }
    // SAFETY: for PARTITION_BY_ADDRESS the SDK filled the addr_info member of the union.
    let a = unsafe { raw.part_info.addr_info };
    Ok(Partition { offset: a.addr, size: a.size })
}
