//! The subscription roots, one file per area, merged in [`crate::schema`].

mod obligation;

pub(crate) use obligation::ObligationSubscription;
