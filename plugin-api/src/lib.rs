//! Everything a wharf tool author needs: implement [`Tool`] for a type,
//! list your tools in [`plugin!`], build for `wasm32-wasip2`.
//!
//! ```ignore
//! use wharf_plugin_api::{Args, Context, Output, Tool, ToolError, ToolSpec};
//!
//! struct Shout;
//!
//! impl Tool for Shout {
//!     const NAME: &'static str = "shout";
//!     fn spec() -> ToolSpec {
//!         ToolSpec::new("Upper-cases a text.").input_schema(serde_json::json!({
//!             "type": "object",
//!             "properties": { "text": { "type": "string" } },
//!             "required": ["text"],
//!         }))
//!     }
//!     fn call(_cx: &Context, args: Args) -> Result<Output, ToolError> {
//!         #[derive(serde::Deserialize)]
//!         struct Input { text: String }
//!         let input: Input = args.parse()?;
//!         Ok(Output::text(input.text.to_uppercase()))
//!     }
//! }
//!
//! wharf_plugin_api::plugin!(Shout);
//! ```
//!
//! A plugin runs in a fresh WASM instance for every call, with exactly the
//! access its grant allows: the files the host preopened (see
//! [`Context::cwd`]), no network, no inherited environment. To edit files,
//! return [`FileChange`]s: the host checks each path against the sandbox
//! policy and applies them.
//!
//! The same tools can be a native plugin instead (a `.so`, or a builtin
//! linked into wharf): with the `native` feature, list them in
//! [`native_plugin!`] (see [`native`] for the C ABI and what running in
//! wharf's process means).
//!
//! A plugin may also hook a session's events (allow, deny or rewrite a
//! tool call, rewrite its output, add context to a prompt): implement
//! [`Hooks`] and name it in [`plugin!`] (`plugin!(Search; hooks =
//! Guard)`), and list the events in the manifest's `[hooks]` table.
//!
//! This crate depends on no part of the host; it targets the WIT package
//! `wharf:plugin@0.2.0` (see [`API_VERSION`]).

// The generated bindings name this crate by its external path, so that the
// `plugin!` expansion works in authors' crates; let it resolve here too.
extern crate self as wharf_plugin_api;

mod exec;
mod hooks;
#[cfg(feature = "native")]
pub mod native;
mod output;
mod panic;
mod tool;

pub use exec::{ExecOutput, ExecRequest};
pub use hooks::{AfterToolCall, BeforeToolCall, Hooks, NoHooks, PromptDecision, Session, ToolCall};
pub use output::{CommandRun, FileChange, Output};
pub use panic::PANIC_LOG_PREFIX;
pub use tool::{Args, Context, ReadError, Tool, ToolError, ToolSpec};

/// The version of the `wharf:plugin` WIT package this crate implements.
pub const API_VERSION: &str = "0.2.0";

/// Generated bindings of the WIT world; used by [`plugin!`], not meant to be
/// named by authors.
#[doc(hidden)]
#[allow(clippy::all, unused_qualifications, unsafe_op_in_unsafe_fn)]
pub mod bindings {
    wit_bindgen::generate!({
        world: "plugin-with-hooks",
        path: "../wit/0.2.0",
        pub_export_macro: true,
        export_macro_name: "__export_wharf_plugin",
        default_bindings_module: "wharf_plugin_api::bindings",
        runtime_path: "wharf_plugin_api::__private::wit_bindgen::rt",
    });
}

/// Log levels for [`log`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

/// Sends a log line to the host, which records it with the call.
///
/// In a native plugin it goes to the host of the call running on this
/// thread; outside a call (a tool's unit tests) it does nothing.
pub fn log(level: Level, message: &str) {
    #[cfg(target_arch = "wasm32")]
    {
        use bindings::wharf::plugin::host::LogLevel;
        let level = match level {
            Level::Trace => LogLevel::Trace,
            Level::Debug => LogLevel::Debug,
            Level::Info => LogLevel::Info,
            Level::Warn => LogLevel::Warn,
            Level::Error => LogLevel::Error,
        };
        bindings::wharf::plugin::host::log(level, message);
    }
    #[cfg(all(not(target_arch = "wasm32"), feature = "native"))]
    native::log(level, message);
    #[cfg(all(not(target_arch = "wasm32"), not(feature = "native")))]
    let _ = (level, message);
}

/// Reports progress of a long call (a short status line). Like [`log`],
/// a no-op outside a call.
pub fn progress(message: &str) {
    #[cfg(target_arch = "wasm32")]
    bindings::wharf::plugin::host::progress(message);
    #[cfg(all(not(target_arch = "wasm32"), feature = "native"))]
    native::progress(message);
    #[cfg(all(not(target_arch = "wasm32"), not(feature = "native")))]
    let _ = message;
}

/// Exports the listed [`Tool`] types as this component's tools, and
/// optionally a [`Hooks`] type as its hooks.
///
/// ```ignore
/// wharf_plugin_api::plugin!(Search, Count);
/// wharf_plugin_api::plugin!(Search; hooks = Guard);
/// wharf_plugin_api::plugin!(hooks = Guard); // hooks only, no tools
/// ```
///
/// A plugin without hooks exports [`NoHooks`], which lets every event go
/// on; the host calls a plugin's hooks only for the events its manifest
/// lists in `[hooks]`.
#[macro_export]
macro_rules! plugin {
    (@export [$($tool:ty),*] $hooks:ty) => {
        // Only a WASM build exports the component's functions: their names
        // (`wharf:plugin/tool@0.2.0#invoke`) are not valid native symbols,
        // and a native build of the crate exists only for its tests.
        #[cfg(target_arch = "wasm32")]
        struct __WharfPlugin;

        #[cfg(target_arch = "wasm32")]
        impl $crate::__private::Guest for __WharfPlugin {
            fn describe() -> ::std::vec::Vec<$crate::__private::WitToolSpec> {
                ::std::vec![$($crate::__private::describe::<$tool>()),*]
            }

            fn invoke(
                cx: $crate::__private::WitCallContext,
                name: ::std::string::String,
                args: ::std::string::String,
            ) -> ::std::result::Result<$crate::__private::WitToolOutput, $crate::__private::WitToolError> {
                $(
                    if name == <$tool as $crate::Tool>::NAME {
                        return $crate::__private::invoke::<$tool>(cx, args);
                    }
                )*
                let _ = (cx, args);
                ::std::result::Result::Err($crate::__private::unknown_tool(&name))
            }
        }

        #[cfg(target_arch = "wasm32")]
        impl $crate::__private::HooksGuest for __WharfPlugin {
            fn before_tool_call(
                call: $crate::__private::WitHookCall,
            ) -> $crate::__private::WitBeforeDecision {
                $crate::__private::before_tool_call::<$hooks>(call)
            }

            fn after_tool_call(
                call: $crate::__private::WitHookCall,
                output: $crate::__private::WitToolOutput,
            ) -> $crate::__private::WitAfterDecision {
                $crate::__private::after_tool_call::<$hooks>(call, output)
            }

            fn session_start(
                info: $crate::__private::WitSessionInfo,
                source: ::std::string::String,
            ) {
                $crate::__private::session_start::<$hooks>(info, source)
            }

            fn session_end(info: $crate::__private::WitSessionInfo) {
                $crate::__private::session_end::<$hooks>(info)
            }

            fn user_prompt_submit(
                info: $crate::__private::WitSessionInfo,
                prompt: ::std::string::String,
            ) -> $crate::__private::WitPromptDecision {
                $crate::__private::user_prompt_submit::<$hooks>(info, prompt)
            }
        }

        #[cfg(target_arch = "wasm32")]
        $crate::bindings::__export_wharf_plugin!(__WharfPlugin with_types_in $crate::bindings);
    };
    (hooks = $hooks:ty $(,)?) => {
        $crate::plugin!(@export [] $hooks);
    };
    ($($tool:ty),+ ; hooks = $hooks:ty $(,)?) => {
        $crate::plugin!(@export [$($tool),+] $hooks);
    };
    ($($tool:ty),+ $(,)?) => {
        $crate::plugin!(@export [$($tool),+] $crate::NoHooks);
    };
}

/// What [`plugin!`] expands to needs; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use wit_bindgen;

    pub use crate::bindings::exports::wharf::plugin::hooks::{
        AfterDecision as WitAfterDecision, BeforeDecision as WitBeforeDecision,
        Guest as HooksGuest, PromptDecision as WitPromptDecision, SessionInfo as WitSessionInfo,
        ToolCall as WitHookCall,
    };
    pub use crate::bindings::exports::wharf::plugin::tool::Guest;
    pub use crate::bindings::wharf::plugin::types::{
        CallContext as WitCallContext, ToolError as WitToolError, ToolOutput as WitToolOutput,
        ToolSpec as WitToolSpec,
    };
    use crate::{Args, Context, Hooks, Output, Session, Tool, ToolCall};

    pub fn describe<T: Tool>() -> WitToolSpec {
        #[cfg(target_arch = "wasm32")]
        crate::panic::install_hook();
        T::spec().into_wit(T::NAME)
    }

    pub fn invoke<T: Tool>(
        cx: WitCallContext,
        args: String,
    ) -> Result<WitToolOutput, WitToolError> {
        #[cfg(target_arch = "wasm32")]
        crate::panic::install_hook();
        let cx = Context::from_wit(cx);
        T::call(&cx, Args::new(args))
            .map(Output::into_wit)
            .map_err(crate::ToolError::into_wit)
    }

    pub fn unknown_tool(name: &str) -> WitToolError {
        WitToolError::InvalidArgs(format!("this plugin has no tool named `{name}`"))
    }

    pub fn before_tool_call<H: Hooks>(call: WitHookCall) -> WitBeforeDecision {
        #[cfg(target_arch = "wasm32")]
        crate::panic::install_hook();
        H::before_tool_call(&ToolCall::from_wit(call)).into_wit()
    }

    pub fn after_tool_call<H: Hooks>(call: WitHookCall, output: WitToolOutput) -> WitAfterDecision {
        #[cfg(target_arch = "wasm32")]
        crate::panic::install_hook();
        H::after_tool_call(&ToolCall::from_wit(call), &Output::from_wit(output)).into_wit()
    }

    pub fn session_start<H: Hooks>(info: WitSessionInfo, source: String) {
        #[cfg(target_arch = "wasm32")]
        crate::panic::install_hook();
        H::session_start(&Session::from_wit(info), &source);
    }

    pub fn session_end<H: Hooks>(info: WitSessionInfo) {
        #[cfg(target_arch = "wasm32")]
        crate::panic::install_hook();
        H::session_end(&Session::from_wit(info));
    }

    pub fn user_prompt_submit<H: Hooks>(info: WitSessionInfo, prompt: String) -> WitPromptDecision {
        #[cfg(target_arch = "wasm32")]
        crate::panic::install_hook();
        H::user_prompt_submit(&Session::from_wit(info), &prompt).into_wit()
    }
}
