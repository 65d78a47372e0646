//! Tyk Error Overrides (gateway 5.13+): rules from a `tyk.conf` and from API
//! definitions, compiled and applied as the gateway does, byte for byte.
//!
//! Rules live in two lists: the gateway's (`error_overrides` in `tyk.conf`)
//! and each API's (classic `error_overrides` with `error_overrides_disabled`,
//! or OAS `x-tyk-api-gateway` `errorOverrides` with `enabled`). The gateway
//! searches the API's exact list, the API's class list, the gateway's exact
//! list, then the gateway's class list; the first matching rule in a list
//! wins. [`ErrorOverrides`] holds the gateway's list and the loaded
//! templates; [`ApiRules`] one API's list.
//!
//! ```
//! use std::sync::Arc;
//! use error_render::TemplateSet;
//! use error_render::error_overrides::{ErrorOverrides, GatewayError, Options, Route};
//!
//! let rules = serde_json::from_str(r#"{"403": [{"response": {"status_code": 401, "body": "{\"e\":1}"}}]}"#)?;
//! let set = Arc::new(TemplateSet::load("templates")?);
//! let eo = ErrorOverrides::new(set, &rules, Options::default());
//! let r = eo.gateway_error(None, &GatewayError { code: 403, message: "Forbidden".into(), ..Default::default() });
//! assert_eq!((r.status, r.route, r.body.as_slice()), (401, Route::Direct, &b"{\"e\":1}"[..]));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod apply;
mod body_field;
mod compile;
pub mod flags;
mod re2;
mod rules;
pub mod service;
pub mod source;
mod wire;

use std::sync::Arc;

pub use apply::{
    GatewayError, MAX_BODY_FOR_MATCHING, Matched, Outcome, Response, Route, UpstreamResponse,
};
pub use body_field::value as body_field_value;
pub use compile::{
    CompileWarning, CompiledRule, CompiledRules, KeySlot, Scope, WarningKind, parse_key,
};
pub use re2::GoRegex;
pub use rules::{Matcher, Rule, RuleMap, RuleResponse};

use crate::escape::Profile;
use crate::set::TemplateSet;

/// The `tyk.conf` settings that shape an override response.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// The legacy templates' escaping (message-only and fallback routes).
    pub profile: Profile,
    /// `hide_generator_header`.
    pub hide_generator_header: bool,
    /// `close_connections`.
    pub close_connections: bool,
}

/// A list of rules after compiling, with whether any were configured at all
/// (the gateway decides whether to look by the configured map, not by what
/// survived compiling).
#[derive(Debug, Default)]
pub struct RuleList {
    configured: bool,
    compiled: Option<CompiledRules>,
}

/// One API's rules.
#[derive(Debug, Default)]
pub struct ApiRules {
    /// The API's id.
    pub id: String,
    configured: bool,
    disabled: bool,
    compiled: Option<CompiledRules>,
    warnings: Vec<CompileWarning>,
}

impl ApiRules {
    /// Compiles an API's rules as the gateway does on API load: not at all
    /// when `disabled` (`error_overrides_disabled`, or OAS `enabled: false`).
    pub fn new(id: impl Into<String>, rules: &RuleMap, disabled: bool) -> ApiRules {
        let mut warnings = Vec::new();
        let compiled = (!disabled && !rules.is_empty())
            .then(|| CompiledRules::compile(rules, Scope::Api, &mut warnings));
        ApiRules {
            id: id.into(),
            configured: !rules.is_empty(),
            disabled,
            compiled,
            warnings,
        }
    }

    /// Whether the API switches its own rules off.
    pub fn disabled(&self) -> bool {
        self.disabled
    }

    /// The compiled rules (none when disabled or empty).
    pub fn compiled(&self) -> Option<&CompiledRules> {
        self.compiled.as_ref()
    }

    /// What the gateway logs while compiling these rules.
    pub fn warnings(&self) -> &[CompileWarning] {
        &self.warnings
    }
}

/// The gateway's rules and templates: everything needed to answer an error
/// or pass on an upstream response as a 5.13+ gateway would.
#[derive(Debug)]
pub struct ErrorOverrides {
    set: Arc<TemplateSet>,
    /// The set for map data; `None` only if it failed to build (it is the
    /// same files, so it does not), in which case `set` stands in.
    map_set: Option<Arc<TemplateSet>>,
    options: Options,
    gateway: RuleList,
    warnings: Vec<CompileWarning>,
}

impl ErrorOverrides {
    /// Compiles the gateway's `rules` against the loaded templates `set`.
    pub fn new(set: Arc<TemplateSet>, rules: &RuleMap, options: Options) -> ErrorOverrides {
        let mut warnings = Vec::new();
        let compiled = (!rules.is_empty())
            .then(|| CompiledRules::compile(rules, Scope::Gateway, &mut warnings));
        let map_set = set.for_map_data().ok().map(Arc::new);
        ErrorOverrides {
            set,
            map_set,
            options,
            gateway: RuleList {
                configured: !rules.is_empty(),
                compiled,
            },
            warnings,
        }
    }

    /// No rules at all: every gateway error gets the legacy templates and
    /// every upstream response passes unchanged. Cheaper than
    /// [`new`](Self::new) with empty rules: the templates are not parsed a
    /// second time for map data, which only a rule's template needs.
    pub fn without_rules(set: Arc<TemplateSet>, options: Options) -> ErrorOverrides {
        ErrorOverrides {
            set,
            map_set: None,
            options,
            gateway: RuleList::default(),
            warnings: Vec::new(),
        }
    }

    /// The templates.
    pub fn set(&self) -> &Arc<TemplateSet> {
        &self.set
    }

    /// The options.
    pub fn options(&self) -> Options {
        self.options
    }

    /// The gateway's compiled rules, if any are configured.
    pub fn gateway_rules(&self) -> Option<&CompiledRules> {
        self.gateway.compiled.as_ref()
    }

    /// What the gateway logs while compiling its own rules.
    pub fn warnings(&self) -> &[CompileWarning] {
        &self.warnings
    }
}
