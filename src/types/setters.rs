//! The builder setters the request types share (one per optional body field, and
//! `extra_body`); other builders (deployments, metadata) use the first too.

/// One setter per optional field: `name(value)` stores `Some(value.into())` and returns the
/// changed value, `#[must_use]` with the message given (by default the requests' own).
macro_rules! setters {
    (must_use = $msg:literal; $($(#[$doc:meta])* $name:ident : $ty:ty),* $(,)?) => {$(
        $(#[$doc])*
        #[must_use = $msg]
        pub fn $name(mut self, value: $ty) -> Self {
            self.$name = Some(value.into());
            self
        }
    )*};
    ($($(#[$doc:meta])* $name:ident : $ty:ty),* $(,)?) => {
        $crate::types::setters::setters! {
            must_use = "setters return the changed request; use it";
            $($(#[$doc])* $name: $ty,)*
        }
    };
}
pub(crate) use setters;

/// The `extra_body` setter (with the docs given): merges the keys of a JSON object into the
/// request's `extra_body` map, which is flattened into the body.
macro_rules! extra_body_setter {
    ($(#[$doc:meta])*) => {
        $(#[$doc])*
        #[must_use = "setters return the changed request; use it"]
        pub fn extra_body(mut self, fields: serde_json::Value) -> Self {
            if let serde_json::Value::Object(map) = fields {
                self.extra_body.extend(map);
            }
            self
        }
    };
}
pub(crate) use extra_body_setter;
