//! The token economy: what the network mints, burns and pays each token epoch
//! ([`ledger`]).

pub mod ledger;
