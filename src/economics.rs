//! The token economy: emission schedules ([`emission`]), the market price of the token
//! ([`price`]) and the book of an outside market of stated depth ([`outside`]), what the
//! network mints, burns and pays each token epoch ([`ledger`]), and
//! what settling payments and verifying computation on a chain costs ([`onchain`]), what
//! GPUs cost their providers and when providers join or leave ([`provider`]), how users'
//! prices are set ([`pricing`]), and what verifying inference costs, method by method
//! ([`verification`]).

pub mod emission;
pub mod ledger;
pub mod onchain;
pub mod outside;
pub mod price;
pub mod pricing;
pub mod provider;
pub mod verification;
