//! Item-by-item comparison of two sets of bindings.
//!
//! Used by `cargo bindings compare`: every item of the committed bindings (made from our
//! declaration headers) must exist in the bindings made from the real SDK headers with the
//! same name and the same type (signature, fields and `repr`, alias target, constant type and
//! value). Items only the SDK has are fine: the committed set is the subset we use.

use std::collections::BTreeMap;

use quote::ToTokens;

/// One item of the committed bindings that the SDK's bindings do not match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Difference {
    /// The SDK's bindings have no item of this kind and name.
    Missing {
        /// `fn`, `struct`, `type`, `const`, ...
        kind: &'static str,
        /// The item's name.
        name: String,
    },
    /// Both have it, with different types.
    Changed {
        /// `fn`, `struct`, `type`, `const`, ...
        kind: &'static str,
        /// The item's name.
        name: String,
        /// The committed item, normalised.
        committed: String,
        /// The SDK's item, normalised.
        sdk: String,
    },
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Difference::Missing { kind, name } => {
                write!(f, "{kind} {name}: in the committed bindings, not in the SDK's")
            }
            Difference::Changed { kind, name, committed, sdk } => {
                write!(f, "{kind} {name} differs:\n  committed: {committed}\n  sdk:       {sdk}")
            }
        }
    }
}

/// Compares `committed` against `sdk` (both Rust source as bindgen writes it). Returns every
/// committed item that the SDK's bindings lack or declare differently; empty means they agree.
///
/// # Errors
/// When either text is not valid Rust.
pub fn compare_bindings(committed: &str, sdk: &str) -> Result<Vec<Difference>, String> {
    let ours = items(committed).map_err(|e| format!("committed bindings: {e}"))?;
    let theirs = items(sdk).map_err(|e| format!("SDK bindings: {e}"))?;
    let mut out = Vec::new();
    for ((kind, name), tokens) in &ours {
        match theirs.get(&(*kind, name.clone())) {
            None => out.push(Difference::Missing { kind, name: name.clone() }),
            Some(t) if t != tokens => out.push(Difference::Changed {
                kind,
                name: name.clone(),
                committed: tokens.clone(),
                sdk: t.clone(),
            }),
            Some(_) => {}
        }
    }
    Ok(out)
}

/// The names of every foreign function the bindings declare (their link names on the chip).
///
/// # Errors
/// When the text is not valid Rust.
pub fn foreign_functions(src: &str) -> Result<std::collections::BTreeSet<String>, String> {
    Ok(items(src)?.into_keys().filter(|(kind, _)| *kind == "fn").map(|(_, name)| name).collect())
}

type ItemMap = BTreeMap<(&'static str, String), String>;

/// Every named item, keyed by kind and name, with its type as normalised tokens (doc comments
/// and derives dropped: they do not change the ABI).
fn items(src: &str) -> Result<ItemMap, String> {
    let mut file = syn::parse_file(src).map_err(|e| e.to_string())?;
    syn::visit_mut::VisitMut::visit_file_mut(&mut ParamNames, &mut file);
    let mut map = ItemMap::new();
    for item in file.items {
        collect(item, &mut map);
    }
    Ok(map)
}

fn collect(item: syn::Item, map: &mut ItemMap) {
    use syn::Item;
    match item {
        Item::ForeignMod(m) => {
            for fi in m.items {
                match fi {
                    syn::ForeignItem::Fn(f) => {
                        let name = f.sig.ident.to_string();
                        map.insert(("fn", name), f.sig.to_token_stream().to_string());
                    }
                    syn::ForeignItem::Static(s) => {
                        let name = s.ident.to_string();
                        let ty = format!(
                            "{} {}",
                            s.mutability.to_token_stream(),
                            s.ty.to_token_stream()
                        );
                        map.insert(("static", name), ty);
                    }
                    _ => {}
                }
            }
        }
        Item::Struct(mut s) => {
            keep_abi_attrs(&mut s.attrs);
            for f in s.fields.iter_mut() {
                keep_abi_attrs(&mut f.attrs);
            }
            map.insert(("struct", s.ident.to_string()), s.to_token_stream().to_string());
        }
        Item::Union(mut u) => {
            keep_abi_attrs(&mut u.attrs);
            for f in u.fields.named.iter_mut() {
                keep_abi_attrs(&mut f.attrs);
            }
            map.insert(("union", u.ident.to_string()), u.to_token_stream().to_string());
        }
        Item::Enum(mut e) => {
            keep_abi_attrs(&mut e.attrs);
            map.insert(("enum", e.ident.to_string()), e.to_token_stream().to_string());
        }
        Item::Type(t) => {
            map.insert(("type", t.ident.to_string()), t.ty.to_token_stream().to_string());
        }
        Item::Const(c) => {
            let v = format!("{} = {}", c.ty.to_token_stream(), c.expr.to_token_stream());
            map.insert(("const", c.ident.to_string()), v);
        }
        _ => {}
    }
}

/// Drops parameter names (in function signatures and function-pointer types): C headers
/// may name parameters or not, and names are no part of a function's type.
struct ParamNames;

impl syn::visit_mut::VisitMut for ParamNames {
    fn visit_fn_arg_mut(&mut self, arg: &mut syn::FnArg) {
        if let syn::FnArg::Typed(t) = arg {
            *t.pat = syn::parse_quote!(_);
        }
        syn::visit_mut::visit_fn_arg_mut(self, arg);
    }

    fn visit_bare_fn_arg_mut(&mut self, arg: &mut syn::BareFnArg) {
        arg.name = None;
        syn::visit_mut::visit_bare_fn_arg_mut(self, arg);
    }
}

/// Keeps only the attributes that change layout or ABI (`repr`).
fn keep_abi_attrs(attrs: &mut Vec<syn::Attribute>) {
    attrs.retain(|a| a.path().is_ident("repr"));
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
        pub type osStatus_t = ::core::ffi::c_int;
        pub const osOK: osStatus_t = 0;
        #[repr(C)]
        #[derive(Debug, Copy, Clone)]
        pub struct osThreadAttr_t { pub name: *const ::core::ffi::c_char, pub stack_size: u32 }
        unsafe extern "C" {
            pub fn osDelay(ticks: u32) -> osStatus_t;
        }
    "#;

    #[test]
    fn identical_bindings_agree_and_extra_sdk_items_are_fine() {
        assert!(compare_bindings(BASE, BASE).unwrap().is_empty());
        let sdk = format!("{BASE}\nunsafe extern \"C\" {{ pub fn osKernelLock() -> i32; }}");
        assert!(compare_bindings(BASE, &sdk).unwrap().is_empty());
    }

    #[test]
    fn docs_and_derives_do_not_count_but_repr_and_types_do() {
        let doc = BASE.replace("#[derive(Debug, Copy, Clone)]", "#[doc = \"x\"] #[derive(Copy)]");
        assert!(compare_bindings(BASE, &doc).unwrap().is_empty());

        let packed = BASE.replace("#[repr(C)]", "#[repr(C, packed)]");
        let d = compare_bindings(BASE, &packed).unwrap();
        assert!(matches!(&d[..], [Difference::Changed { kind: "struct", .. }]), "{d:?}");

        let sig = BASE.replace("ticks: u32", "ticks: u16");
        let d = compare_bindings(BASE, &sig).unwrap();
        assert!(
            matches!(&d[..], [Difference::Changed { kind: "fn", name, .. }] if name == "osDelay")
        );

        let val = BASE.replace("osOK: osStatus_t = 0", "osOK: osStatus_t = 1");
        assert_eq!(compare_bindings(BASE, &val).unwrap().len(), 1);
    }

    #[test]
    fn parameter_names_do_not_count_but_parameter_types_do() {
        let renamed = BASE.replace("osDelay(ticks: u32)", "osDelay(arg1: u32)");
        assert!(compare_bindings(BASE, &renamed).unwrap().is_empty());
        let cb = "pub struct S { pub f: Option<unsafe extern \"C\" fn(state: i32)> }";
        let cb2 = "pub struct S { pub f: Option<unsafe extern \"C\" fn(arg1: i32)> }";
        let cb3 = "pub struct S { pub f: Option<unsafe extern \"C\" fn(state: u32)> }";
        assert!(compare_bindings(cb, cb2).unwrap().is_empty());
        assert_eq!(compare_bindings(cb, cb3).unwrap().len(), 1);
    }

    #[test]
    fn foreign_functions_are_listed_by_name() {
        let f = foreign_functions(BASE).unwrap();
        assert_eq!(f.into_iter().collect::<Vec<_>>(), vec!["osDelay".to_string()]);
    }

    #[test]
    fn an_item_the_sdk_lacks_is_reported() {
        let sdk = BASE.replace("lwip_", "").replace("pub fn osDelay", "pub fn osDelayUntil");
        let d = compare_bindings(BASE, &sdk).unwrap();
        assert_eq!(d, vec![Difference::Missing { kind: "fn", name: "osDelay".into() }]);
    }
}
