//! A small set of a plain enum's values ([`FlagSet`]), kept as bits: the
//! shape behind [`AccessSet`](crate::access::AccessSet) and
//! [`ModeSet`](crate::mode::ModeSet). It iterates in the enum's declared
//! order, holds each value once, and travels as a JSON array of the values'
//! names; an unknown name or a name given twice is refused, not skipped.

use core::fmt;
use core::marker::PhantomData;

use serde::de::{Deserialize, Deserializer, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeSeq, Serializer};

/// A plain enum a [`FlagSet`] can hold: at most 32 values, each with its
/// place in [`Flag::ALL`].
pub trait Flag: Copy + Eq + fmt::Debug + 'static {
    /// Every value, in the order sets iterate and serialize.
    const ALL: &'static [Self];

    /// This value's place in [`Flag::ALL`].
    fn index(self) -> usize;
}

/// A set of `T` values: ordered as [`Flag::ALL`], no duplicates, `Copy`.
pub struct FlagSet<T> {
    bits: u32,
    kind: PhantomData<T>,
}

impl<T: Flag> FlagSet<T> {
    /// The empty set.
    pub fn empty() -> Self {
        Self::from_bits(0)
    }

    /// Every value of `T`.
    pub fn all() -> Self {
        T::ALL.iter().copied().collect()
    }

    /// The set holding exactly `values` (repeats count once).
    pub fn of(values: &[T]) -> Self {
        values.iter().copied().collect()
    }

    fn from_bits(bits: u32) -> Self {
        FlagSet { bits, kind: PhantomData }
    }

    fn bit(value: T) -> u32 {
        1 << value.index()
    }

    /// Whether `value` is in the set.
    pub fn contains(self, value: T) -> bool {
        self.bits & Self::bit(value) != 0
    }

    /// Adds `value`; whether it was new.
    pub fn insert(&mut self, value: T) -> bool {
        let new = !self.contains(value);
        self.bits |= Self::bit(value);
        new
    }

    /// Takes `value` out; whether it was there.
    pub fn remove(&mut self, value: T) -> bool {
        let there = self.contains(value);
        self.bits &= !Self::bit(value);
        there
    }

    /// The values in either set.
    #[must_use]
    pub fn union(self, other: Self) -> Self {
        Self::from_bits(self.bits | other.bits)
    }

    /// The values in both sets.
    #[must_use]
    pub fn intersection(self, other: Self) -> Self {
        Self::from_bits(self.bits & other.bits)
    }

    /// The values in this set and not in `other`.
    #[must_use]
    pub fn difference(self, other: Self) -> Self {
        Self::from_bits(self.bits & !other.bits)
    }

    /// Whether every value here is also in `other`.
    pub fn is_subset(self, other: Self) -> bool {
        self.bits & !other.bits == 0
    }

    /// Whether the set holds nothing.
    pub fn is_empty(self) -> bool {
        self.bits == 0
    }

    /// How many values the set holds.
    pub fn len(self) -> usize {
        self.bits.count_ones() as usize
    }

    /// The values, in [`Flag::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = T> {
        T::ALL.iter().copied().filter(move |value| self.contains(*value))
    }
}

impl<T: Flag> FromIterator<T> for FlagSet<T> {
    fn from_iter<I: IntoIterator<Item = T>>(values: I) -> Self {
        let mut set = Self::empty();
        for value in values {
            set.insert(value);
        }
        set
    }
}

// Written out rather than derived: a derive would ask `T` for each trait,
// and the set is `Copy`, comparable and hashable whatever `T` is.
impl<T> Clone for FlagSet<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for FlagSet<T> {}

impl<T> PartialEq for FlagSet<T> {
    fn eq(&self, other: &Self) -> bool {
        self.bits == other.bits
    }
}

impl<T> Eq for FlagSet<T> {}

impl<T> core::hash::Hash for FlagSet<T> {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.bits.hash(state);
    }
}

impl<T: Flag> Default for FlagSet<T> {
    fn default() -> Self {
        Self::empty()
    }
}

impl<T: Flag> fmt::Debug for FlagSet<T> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.debug_set().entries(self.iter()).finish()
    }
}

impl<T: Flag + Serialize> Serialize for FlagSet<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut sequence = serializer.serialize_seq(Some(self.len()))?;
        for value in self.iter() {
            sequence.serialize_element(&value)?;
        }
        sequence.end()
    }
}

impl<'de, T: Flag + Deserialize<'de>> Deserialize<'de> for FlagSet<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Values<T>(PhantomData<T>);

        impl<'de, T: Flag + Deserialize<'de>> Visitor<'de> for Values<T> {
            type Value = FlagSet<T>;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("an array of distinct names")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut values: A) -> Result<Self::Value, A::Error> {
                let mut set = FlagSet::empty();
                while let Some(value) = values.next_element::<T>()? {
                    if !set.insert(value) {
                        return Err(serde::de::Error::custom(format_args!("{value:?} is listed twice")));
                    }
                }
                Ok(set)
            }
        }

        deserializer.deserialize_seq(Values(PhantomData))
    }
}
