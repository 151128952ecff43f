//! The integer types an aggregate's version field may have.

/// An integer type that can hold an aggregate's version: `u64`, `i64`, `u32`
/// or `i32` (under any alias or path, such as `type Version = u64` or
/// `std::primitive::u64`).
///
/// Versions start at 1 and grow by one per commit that changes the
/// aggregate; the framework counts in `u64` and converts.
///
/// ```
/// use uow_core::VersionNumber;
/// assert_eq!(<i32 as VersionNumber>::from_version(7), 7);
/// assert_eq!(7u32.to_version(), 7);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a version",
    label = "the version field must be `u64`, `i64`, `u32` or `i32`",
    note = "the framework counts commits in the version field: declare it `pub version: u64`"
)]
pub trait VersionNumber: Copy + Send + Sync + 'static {
    /// The storage kind of the version column.
    const KIND: crate::backend::ColumnKind;
    /// The version as the framework counts it.
    fn to_version(self) -> u64;
    /// The framework's count as this type (versions never come near the
    /// limits of the narrower types in practice; they saturate there).
    fn from_version(version: u64) -> Self;
}

impl VersionNumber for u64 {
    const KIND: crate::backend::ColumnKind = <u64 as crate::ColumnValue>::KIND;
    #[inline]
    fn to_version(self) -> u64 {
        self
    }
    #[inline]
    fn from_version(version: u64) -> Self {
        version
    }
}

impl VersionNumber for i64 {
    const KIND: crate::backend::ColumnKind = <i64 as crate::ColumnValue>::KIND;
    #[inline]
    fn to_version(self) -> u64 {
        u64::try_from(self).unwrap_or(0)
    }
    #[inline]
    fn from_version(version: u64) -> Self {
        i64::try_from(version).unwrap_or(i64::MAX)
    }
}

impl VersionNumber for u32 {
    const KIND: crate::backend::ColumnKind = <u32 as crate::ColumnValue>::KIND;
    #[inline]
    fn to_version(self) -> u64 {
        u64::from(self)
    }
    #[inline]
    fn from_version(version: u64) -> Self {
        u32::try_from(version).unwrap_or(u32::MAX)
    }
}

impl VersionNumber for i32 {
    const KIND: crate::backend::ColumnKind = <i32 as crate::ColumnValue>::KIND;
    #[inline]
    fn to_version(self) -> u64 {
        u64::try_from(self).unwrap_or(0)
    }
    #[inline]
    fn from_version(version: u64) -> Self {
        i32::try_from(version).unwrap_or(i32::MAX)
    }
}
