//! The library's error types: every error names the file, and the line and
//! column where they are known.

use std::fmt;
use std::path::PathBuf;

/// A problem in one template file, at a place in it when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceError {
    /// The template's file name (its base name, as the gateway knows it).
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        write!(f, ": {}", self.message)
    }
}

/// Why a template set could not be loaded. A set that does not load is never
/// served: the gateway would refuse to start with it.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The folder or a file in it could not be read.
    #[error("{}: {message}", path.display())]
    Io {
        /// The path that failed.
        path: PathBuf,
        /// The operating system's reason.
        message: String,
    },
    /// The folder holds no file whose name starts with `error`.
    #[error(
        "{}: no template found: the gateway loads files whose names start with `error` \
         (error.json, error.xml, error_<code>.json ...); add at least error.json",
        dir.display()
    )]
    NoTemplates {
        /// The folder searched.
        dir: PathBuf,
    },
    /// One or more templates do not parse (every one is listed).
    #[error("{}", join_lines(.0))]
    Parse(Vec<SourceError>),
}

impl LoadError {
    /// Every problem found, one per file and place.
    pub fn problems(&self) -> Vec<SourceError> {
        match self {
            LoadError::Parse(errors) => errors.clone(),
            LoadError::Io { path, message } => vec![SourceError {
                file: path.display().to_string(),
                line: None,
                column: None,
                message: message.clone(),
            }],
            other @ LoadError::NoTemplates { dir } => vec![SourceError {
                file: dir.display().to_string(),
                line: None,
                column: None,
                message: other.to_string(),
            }],
        }
    }
}

/// One error per line, as shown for a load that failed in several places.
pub(crate) fn join_lines(errors: &[SourceError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Why executing a template failed. The response then carries a fallback
/// body, never a truncated one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{template}{}{}: {message}",
    line.map(|l| format!(":{l}")).unwrap_or_default(),
    line.and(*column).map(|c| format!(":{c}")).unwrap_or_default()
)]
pub struct ExecError {
    /// The template that was executing.
    pub template: String,
    /// The line of the failing action, when known.
    pub line: Option<usize>,
    /// The column (1-based) of the failing action, when known: Tera gives
    /// one; gotmpl's execution errors do not.
    pub column: Option<usize>,
    /// What went wrong (the engine's words).
    pub message: String,
}
