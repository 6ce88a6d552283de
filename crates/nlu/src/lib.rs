//! nlu
