//! What hardware and queues do, free of the simulation: GPU classes ([`gpu`]), the roofline
//! ([`roofline`]), what one GPU achieves ([`rates`]), the model catalogue ([`catalogue`]), the
//! numeric formats a model is served in ([`formats`]), the replica plan and step cost of
//! serving ([`serving`]), what communication adds to a step ([`comm`]) and replicas in
//! pipeline stages across hosts ([`pipeline`]), the fewest servers that meet latency
//! objectives for a demand ([`sizing`]), the training time model ([`training`]) and
//! low-communication training ([`local_sgd`]), and exact queueing results ([`queueing`])
//! that the tests compare with.

pub mod catalogue;
pub mod comm;
pub mod formats;
pub mod gpu;
pub mod local_sgd;
pub mod pipeline;
pub mod queueing;
pub mod rates;
pub mod roofline;
pub mod serving;
pub mod sizing;
pub mod training;
