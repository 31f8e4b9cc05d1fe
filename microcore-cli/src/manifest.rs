//! The `Cargo.toml` files of a generated project: written from the
//! checkout's own manifest (its dependency versions and features, its
//! profiles), so a project builds against exactly what microcore is
//! tested with and shares compiled dependencies with it; and edited in
//! place by `add tool`, keeping the user's layout and comments.

use std::path::{Path, PathBuf};

use toml_edit::{DocumentMut, Item, Table, Value};

use crate::failure::{Failure, io};

/// The tool crates a new project links, besides the kernel. The scheduler
/// is one: an hourly job needs no edit of a manifest. The registry
/// and the system routes come with every app: `/system/health`,
/// `/system/ready`, `/system/status` and `/metrics` answer from the first
/// `cargo run`.
pub(crate) const TOOLS: &[&str] = &[
    "microcore-config",
    "microcore-calls",
    "microcore-log",
    "microcore-http",
    "microcore-db",
    "microcore-event-bus",
    "microcore-auth",
    "microcore-state",
    "microcore-scheduler",
    "microcore-registry",
    "microcore-system",
];

/// Tools the app links but no plugin of a new app names, so the domains
/// crate does not depend on them: the system routes are the framework's
/// own plugins, `calls` is what other tools report to, and the registry's
/// handle is for the system routes. A plugin that wants one adds it (the
/// build names the line to add).
const APP_ONLY: &[&str] = &["microcore-calls", "microcore-registry", "microcore-system"];

/// Registry crates the domains crate needs in scope (derive macros emit
/// paths into them).
pub(crate) const DOMAINS_EXTERNAL: &[&str] = &[
    "serde",
    "serde_json",
    "tokio",
    "axum",
    "utoipa",
    "validator",
    "sea-orm",
];

/// The microcore checkout a project depends on by path.
#[derive(Debug)]
pub(crate) struct Checkout {
    root: PathBuf,
    manifest: DocumentMut,
}

impl Checkout {
    /// Reads `<path>/Cargo.toml`, which must be microcore's workspace.
    pub(crate) fn open(path: &Path) -> Result<Self, Failure> {
        let not_microcore = |why: String| {
            Failure::failed(format!(
                "{} is not a microcore checkout: {why}\n  = help: pass --microcore-path <the folder holding microcore's Cargo.toml>",
                path.display()
            ))
        };
        let root = path
            .canonicalize()
            .map_err(|e| not_microcore(e.to_string()))?;
        let manifest_path = root.join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest_path)
            .map_err(|e| not_microcore(format!("cannot read Cargo.toml: {e}")))?;
        let manifest: DocumentMut = text
            .parse()
            .map_err(|e| not_microcore(format!("Cargo.toml is not valid TOML: {e}")))?;
        let checkout = Self { root, manifest };
        checkout.workspace_dependency("microcore").map_err(|_| {
            not_microcore("its Cargo.toml has no [workspace.dependencies] microcore".into())
        })?;
        Ok(checkout)
    }

    /// The checkout's folder.
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    fn workspace_dependency(&self, name: &str) -> Result<&Item, Failure> {
        self.manifest
            .get("workspace")
            .and_then(|w| w.get("dependencies"))
            .and_then(|d| d.get(name))
            .ok_or_else(|| {
                Failure::failed(format!(
                    "{}/Cargo.toml has no [workspace.dependencies] entry '{name}'",
                    self.root.display()
                ))
            })
    }

    /// `name = <spec>` for the project's `[workspace.dependencies]`: a
    /// microcore crate by absolute path, any other as the checkout has it.
    fn dependency_line(&self, name: &str) -> Result<String, Failure> {
        let item = self.workspace_dependency(name)?;
        if let Some(path) = item.get("path").and_then(Item::as_str) {
            let absolute = Value::from(self.root.join(path).display().to_string());
            return Ok(format!(
                "{name} = {{ path = {} }}",
                absolute.to_string().trim()
            ));
        }
        let spec = match item {
            Item::Value(value) => value.to_string(),
            Item::Table(table) => table.clone().into_inline_table().to_string(),
            _ => {
                return Err(Failure::failed(format!(
                    "{}/Cargo.toml: [workspace.dependencies] '{name}' is neither a version nor a table",
                    self.root.display()
                )));
            }
        };
        Ok(format!("{name} = {}", spec.trim()))
    }

    /// The checkout's `[profile.*]` tables: the same profiles make the
    /// same artifacts, so a shared target dir serves both. A new app's
    /// release binary also drops its symbol table (12.0 → 10.7 MB;
    /// docs/benchmarks.md): the example app keeps it, for callgrind's
    /// per-function figures.
    fn profiles(&self) -> String {
        let Some(profiles) = self.manifest.get("profile") else {
            return String::new();
        };
        let mut doc = DocumentMut::new();
        doc.insert("profile", profiles.clone());
        if let Some(release) = doc["profile"]
            .get_mut("release")
            .and_then(Item::as_table_like_mut)
        {
            release.insert("strip", toml_edit::value("symbols"));
        }
        // The checkout's comments speak of microcore's example app: the
        // settings are the new app's, the comments are not.
        let text = doc.to_string();
        let settings: Vec<&str> = text
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .collect();
        format!("{}\n", settings.join("\n").trim())
    }

    /// The checkout's backend features (`postgres = ["microcore-db/postgres"]`,
    /// ...) without its `default`, which turns them all on for the example
    /// app: a new app builds none of them until it asks.
    fn features(&self) -> String {
        let Some(features) = self.manifest.get("features").and_then(Item::as_table) else {
            return String::new();
        };
        features
            .iter()
            .filter(|(name, _)| *name != "default")
            .map(|(name, value)| {
                let value = value.as_value().map(|v| v.to_string()).unwrap_or_default();
                format!("{name} = {}", value.trim())
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The Rust version microcore needs (`rust-version`), for the Dockerfile's image.
    pub(crate) fn rust_version(&self) -> String {
        self.manifest
            .get("workspace")
            .and_then(|w| w.get("package"))
            .and_then(|p| p.get("rust-version"))
            .and_then(Item::as_str)
            .unwrap_or("1.95")
            .to_string()
    }

    /// The root `Cargo.toml` of a new project whose app package is `package`.
    pub(crate) fn root_manifest(&self, package: &str) -> Result<String, Failure> {
        // microcore-commands: the app's command line (serve, check, ...).
        let mut app = Vec::new();
        for name in ["microcore", "microcore-commands"]
            .into_iter()
            .chain(TOOLS.iter().copied())
        {
            app.push(self.dependency_line(name)?);
        }
        // The domains package is named after the app: cargo hashes a path
        // package by its path relative to the workspace, so two projects'
        // `domains` would share (and keep rebuilding) one set of artifacts
        // in a shared target dir. The key keeps the crate's name `domains`.
        app.insert(
            2,
            format!("domains = {{ path = \"domains\", package = \"{package}-domains\" }}"),
        );
        Ok(crate::templates::render(
            crate::templates::ROOT_MANIFEST,
            &[
                ("profiles", &self.profiles()),
                ("package", package),
                ("features", &self.features()),
                ("app_dependencies", &app.join("\n")),
                ("build", &self.dependency_line("microcore-build")?),
            ],
        ))
    }

    /// `domains/Cargo.toml` of a new project whose app package is `package`.
    pub(crate) fn domains_manifest(&self, package: &str) -> Result<String, Failure> {
        // microcore-commands: the build script's findings register as its
        // lints. The tools no plugin names (see APP_ONLY) stay out.
        let deps = ["microcore", "microcore-commands"]
            .iter()
            .chain(TOOLS.iter().filter(|t| !APP_ONLY.contains(t)))
            .chain(DOMAINS_EXTERNAL)
            .map(|name| self.dependency_line(name))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(crate::templates::render(
            crate::templates::DOMAINS_MANIFEST,
            &[
                ("package", package),
                ("domains_dependencies", &deps.join("\n")),
                ("build", &self.dependency_line("microcore-build")?),
            ],
        ))
    }
}

/// A `Cargo.toml` read for editing.
#[derive(Debug)]
pub(crate) struct Manifest {
    path: PathBuf,
    doc: DocumentMut,
}

impl Manifest {
    /// Reads and parses `path`.
    pub(crate) fn read(path: &Path) -> Result<Self, Failure> {
        let text = std::fs::read_to_string(path).map_err(|e| io("read", path, e))?;
        let doc = text
            .parse()
            .map_err(|e| Failure::failed(format!("{} is not valid TOML: {e}", path.display())))?;
        Ok(Self {
            path: path.to_path_buf(),
            doc,
        })
    }

    /// `[package] name`.
    pub(crate) fn package_name(&self) -> Result<String, Failure> {
        self.doc
            .get("package")
            .and_then(|p| p.get("name"))
            .and_then(Item::as_str)
            .map(str::to_string)
            .ok_or_else(|| {
                Failure::failed(format!(
                    "{} has no [package] name: is this the app's Cargo.toml?",
                    self.path.display()
                ))
            })
    }

    /// Whether `[table] name` exists (`table` is dotted: `workspace.dependencies`).
    pub(crate) fn has(&self, table: &str, name: &str) -> bool {
        self.table(table).is_some_and(|t| t.contains_key(name))
    }

    fn table(&self, dotted: &str) -> Option<&Table> {
        let mut item = self.doc.as_item();
        for key in dotted.split('.') {
            item = item.get(key)?;
        }
        item.as_table()
    }

    fn table_mut(&mut self, dotted: &str) -> Result<&mut Table, Failure> {
        let missing =
            || Failure::failed(format!("{} has no [{dotted}] table", self.path.display()));
        let mut item = self.doc.as_item_mut();
        for key in dotted.split('.') {
            item = item.get_mut(key).ok_or_else(missing)?;
        }
        item.as_table_mut().ok_or_else(missing)
    }

    /// Adds `name = { path = "<path>" }` to `[table]`.
    pub(crate) fn add_path_dependency(
        &mut self,
        table: &str,
        name: &str,
        path: &str,
    ) -> Result<(), Failure> {
        let mut spec = toml_edit::InlineTable::new();
        spec.insert("path", path.into());
        self.table_mut(table)?
            .insert(name, Item::Value(Value::InlineTable(spec)));
        Ok(())
    }

    /// Adds `name.workspace = true` to `[table]`.
    pub(crate) fn add_workspace_dependency(
        &mut self,
        table: &str,
        name: &str,
    ) -> Result<(), Failure> {
        let mut spec = Table::new();
        spec.set_dotted(true);
        spec.insert("workspace", toml_edit::value(true));
        self.table_mut(table)?.insert(name, Item::Table(spec));
        Ok(())
    }

    /// Appends `member` to `[workspace] members`, and to `default-members`
    /// when there is such a list, unless it is there.
    pub(crate) fn add_member(&mut self, member: &str) -> Result<(), Failure> {
        let path = self.path.display().to_string();
        let workspace = self.table_mut("workspace")?;
        if workspace.get("members").and_then(Item::as_array).is_none() {
            return Err(Failure::failed(format!(
                "{path} has no [workspace] members list"
            )));
        }
        for list in ["members", "default-members"] {
            if let Some(list) = workspace.get_mut(list).and_then(Item::as_array_mut)
                && !list.iter().any(|m| m.as_str() == Some(member))
            {
                list.push(member);
            }
        }
        Ok(())
    }

    /// `name = <spec>` for a crate at `at` (a folder beside this manifest)
    /// that needs the dependency `name` of `[dependencies]` as this
    /// manifest has it: `name.workspace = true` stays so, a relative path
    /// is made relative to `at`.
    pub(crate) fn dependency_for(&self, name: &str, at: &str) -> Result<String, Failure> {
        let spec = self
            .table("dependencies")
            .and_then(|t| t.get(name))
            .ok_or_else(|| {
                Failure::failed(format!(
                    "{} has no '{name}' in [dependencies]: is this a microcore app?",
                    self.path.display()
                ))
            })?;
        if spec.get("workspace").and_then(Item::as_bool) == Some(true) {
            return Ok(format!("{name}.workspace = true"));
        }
        let mut spec = match spec {
            Item::Value(Value::InlineTable(t)) => t.clone(),
            Item::Table(t) => t.clone().into_inline_table(),
            Item::Value(v) => return Ok(format!("{name} = {}", v.to_string().trim())),
            _ => {
                return Err(Failure::failed(format!(
                    "{}: [dependencies] '{name}' is neither a version nor a table",
                    self.path.display()
                )));
            }
        };
        if let Some(path) = spec.get("path").and_then(Value::as_str)
            && Path::new(path).is_relative()
        {
            let up = "../".repeat(Path::new(at).components().count());
            spec.insert("path", format!("{up}{path}").into());
        }
        Ok(format!("{name} = {}", spec.to_string().trim()))
    }

    /// Where it is read from.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Writes the edited file back.
    pub(crate) fn write(&self) -> Result<(), Failure> {
        std::fs::write(&self.path, self.doc.to_string()).map_err(|e| io("write", &self.path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn this_checkout() -> Checkout {
        Checkout::open(&Path::new(env!("CARGO_MANIFEST_DIR")).join("..")).unwrap()
    }

    #[test]
    fn the_manifests_take_paths_versions_and_profiles_from_the_checkout() {
        let checkout = this_checkout();
        let root: DocumentMut = checkout.root_manifest("shop").unwrap().parse().unwrap();
        let http = root["dependencies"]["microcore-http"]["path"]
            .as_str()
            .unwrap();
        assert_eq!(Path::new(http), checkout.root().join("tools/http"));
        assert_eq!(root["package"]["name"].as_str(), Some("shop"));
        assert_eq!(
            root["profile"]["dev"]["debug"].as_str(),
            checkout.manifest["profile"]["dev"]["debug"].as_str()
        );
        assert_eq!(
            root["profile"]["release"]["strip"].as_str(),
            Some("symbols")
        );
        assert_eq!(root["profile"]["release"]["lto"].as_str(), Some("fat"));
        assert_eq!(
            root["dependencies"]["domains"]["package"].as_str(),
            Some("shop-domains")
        );
        let domains: DocumentMut = checkout.domains_manifest("shop").unwrap().parse().unwrap();
        assert_eq!(
            domains["dependencies"]["tokio"].to_string(),
            checkout.manifest["workspace"]["dependencies"]["tokio"].to_string()
        );
        assert_eq!(domains["package"]["name"].as_str(), Some("shop-domains"));
        for app_only in APP_ONLY {
            assert!(
                domains["dependencies"].get(app_only).is_none(),
                "{app_only}"
            );
        }
    }

    #[test]
    fn a_folder_that_is_not_microcore_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let e = Checkout::open(dir.path()).unwrap_err().to_string();
        assert!(e.contains("is not a microcore checkout"), "{e}");
    }

    #[test]
    fn edits_keep_comments_and_add_entries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("Cargo.toml");
        std::fs::write(
            &path,
            "[workspace]\nmembers = [\"domains\"]\ndefault-members = [\".\", \"domains\"]\n\n[workspace.dependencies]\n# mine\nx = \"1\"\n\n[dependencies]\nx.workspace = true\n",
        )
        .unwrap();
        let mut m = Manifest::read(&path).unwrap();
        m.add_member("tools/mailer").unwrap();
        m.add_path_dependency("workspace.dependencies", "mailer-tool", "tools/mailer")
            .unwrap();
        m.add_workspace_dependency("dependencies", "mailer-tool")
            .unwrap();
        m.write().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("# mine"), "{text}");
        assert!(
            text.contains("members = [\"domains\", \"tools/mailer\"]"),
            "{text}"
        );
        assert!(
            text.contains("default-members = [\".\", \"domains\", \"tools/mailer\"]"),
            "{text}"
        );
        assert!(
            text.contains("mailer-tool = { path = \"tools/mailer\" }"),
            "{text}"
        );
        assert!(text.contains("mailer-tool.workspace = true"), "{text}");
        assert!(
            Manifest::read(&path)
                .unwrap()
                .has("dependencies", "mailer-tool")
        );
    }
}
