//! The two macro families every exported function uses: the panic boundary, and argument
//! validation (`try_str!`, `try_versioned!`, `try_client!`, ...).

#[macro_use]
mod boundary;
#[macro_use]
mod validate;

pub(crate) use validate::{null_argument, str_arg, versioned_arg, Versioned};
