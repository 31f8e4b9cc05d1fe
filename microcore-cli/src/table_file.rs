//! `add plugin ... --table <table>`: a plugin that reads or writes a table
//! of its domain with typed sea-orm queries, which run unchanged on SQLite
//! and PostgreSQL. Besides the plugin file it writes, when missing, the
//! table's entity and the row type the domain's plugins share (appended to
//! `domains/<domain>/models.rs`) and the migration that creates the table
//! (one file per backend: only the auto-increment id differs).

use crate::failure::Failure;
use crate::names::{Route, upper_camel};

/// The names one table gives the generated code.
#[derive(Debug)]
pub(crate) struct Table<'a> {
    /// The table, snake_case plural (`notes`); also its entity module.
    pub(crate) name: &'a str,
    /// The domain folder.
    pub(crate) domain: &'a str,
    /// The shared row type in `models.rs` (`Note`).
    pub(crate) row: String,
}

impl<'a> Table<'a> {
    /// `notes` of domain `notes` → row type `Note`.
    pub(crate) fn new(domain: &'a str, name: &'a str) -> Self {
        Self {
            name,
            domain,
            row: upper_camel(&singular(name)),
        }
    }

    /// What `models.rs` gains: the entity module and the shared row type.
    pub(crate) fn models_addition(&self) -> String {
        let Self { name, row, .. } = self;
        format!(
            r#"
/// The `{name}` table (created by this domain's migrations): its sea-orm
/// entity, for typed queries that run on SQLite and PostgreSQL alike:
/// `{name}::Entity::find()`, `{name}::ActiveModel {{ .. }}.insert(&self.db)`.
pub mod {name} {{
    use crate::prelude::*;

    /// One row of `{name}`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "{name}")]
    pub struct Model {{
        /// Primary key, chosen by the database.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// 1 to 100 characters.
        pub name: String,
    }}

    /// Relations to other tables of this domain (none yet).
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {{}}

    impl ActiveModelBehavior for ActiveModel {{}}
}}

/// A row of `{name}` as this domain's routes answer it and its events carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct {row} {{
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
}}

impl From<{name}::Model> for {row} {{
    fn from(m: {name}::Model) -> Self {{
        Self {{
            id: m.id,
            name: m.name,
        }}
    }}
}}
"#
        )
    }

    /// `models` with the table's entity and row type appended, and the
    /// prelude imported (after the module doc) if it was not.
    pub(crate) fn added_to(&self, models: &str) -> String {
        let mut out = String::new();
        let mut rest = models;
        if !models.contains("use crate::prelude::*;") {
            while let Some(line) = rest.lines().next().filter(|l| l.starts_with("//!")) {
                out.push_str(line);
                out.push('\n');
                rest = rest[line.len()..].strip_prefix('\n').unwrap_or("");
            }
            out.push_str("\nuse crate::prelude::*;\n");
        }
        out.push_str(rest);
        out.push_str(&self.models_addition());
        out
    }

    /// Whether `models` (the text of `models.rs`) declares this table's entity.
    pub(crate) fn is_in(&self, models: &str) -> bool {
        models.contains(&format!("table_name = \"{}\"", self.name))
    }

    /// Whether one of `sql` (the domain's migration files) creates the table.
    pub(crate) fn is_created_by(&self, sql: &[String]) -> bool {
        let wanted = [
            format!("create table {} ", self.name),
            format!("create table {}(", self.name),
            format!("create table if not exists {} ", self.name),
            format!("create table if not exists {}(", self.name),
        ];
        sql.iter().any(|s| {
            let flat = s
                .to_ascii_lowercase()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            wanted.iter().any(|w| flat.contains(w.as_str()))
        })
    }

    /// The migration files creating the table, as (suffix, SQL): the
    /// auto-increment id is the one column whose SQL differs by backend.
    pub(crate) fn migrations(&self) -> [(&'static str, String); 3] {
        let name = self.name;
        let create = |id: &str| {
            format!(
                "-- The `{name}` table of the `{}` domain (entity: models.rs).\nCREATE TABLE {name} (\n    id {id},\n    name TEXT NOT NULL\n);\n",
                self.domain
            )
        };
        [
            (".sqlite.sql", create("INTEGER PRIMARY KEY AUTOINCREMENT")),
            (".postgres.sql", create("BIGSERIAL PRIMARY KEY")),
            (".down.sql", format!("DROP TABLE {name};\n")),
        ]
    }
}

/// `notes` → `note`, `categories` → `category`, `news` → `news`.
fn singular(name: &str) -> String {
    if let Some(stem) = name.strip_suffix("ies") {
        format!("{stem}y")
    } else if ["sses", "xes", "ches", "shes"]
        .iter()
        .any(|s| name.ends_with(s))
    {
        name[..name.len() - 2].to_string()
    } else if name.ends_with("ss") || name.ends_with("us") || name.ends_with("news") {
        name.to_string()
    } else {
        name.strip_suffix('s').unwrap_or(name).to_string()
    }
}

/// What a table-backed route does, by method and path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Create,
    List,
    Read,
    Update,
    Delete,
}

fn action(route: &Route) -> Result<Action, Failure> {
    match (route.method, route.params.len()) {
        ("post", 0) => Ok(Action::Create),
        ("get", 0) => Ok(Action::List),
        ("get", 1) => Ok(Action::Read),
        ("put" | "patch", 1) => Ok(Action::Update),
        ("delete", 1) => Ok(Action::Delete),
        _ => Err(Failure::usage(format!(
            "--table makes a route that creates a row (POST /notes), lists them (GET /notes), or reads, updates or deletes one by id (GET, PUT, PATCH or DELETE /notes/{{id}}); {} {} is none of these\n  = help: drop --table and write the query yourself (see the guide's \"Template: a route\")",
            route.method_upper(),
            route.path
        ))),
    }
}

/// The plugin file of `name` (a file name) serving `route` on `table`.
///
/// # Errors
/// A route that is not one of the five table actions.
pub(crate) fn plugin_source(
    table: &Table<'_>,
    name: &str,
    route: &Route,
) -> Result<String, Failure> {
    let action = action(route)?;
    let plugin = upper_camel(name);
    let Table {
        name: t,
        domain,
        row,
    } = table;
    let request = format!("{plugin}Request");
    let reply = format!("{plugin}Reply");
    let (method, path) = (route.method_upper(), route.path.as_str());
    let param = route.params.first().map(String::as_str).unwrap_or("id");
    let not_found = format!("{row} not found");
    let body_type = format!(
        "\n/// The body of a `{method} {path}` request.\n#[derive(Debug, Deserialize, Validate, ToSchema)]\npub struct {request} {{\n    /// 1 to 100 characters.\n    #[validate(length(min = 1, max = 100))]\n    name: String,\n}}\n"
    );
    let (doc, types, returns, args, body, test) = match action {
        Action::Create => (
            format!("Creates a row of `{t}` and answers it with 201"),
            body_type.clone(),
            format!("Created<{row}>"),
            format!("Json(request): Json<{request}>"),
            format!(
                "        let row = {t}::ActiveModel {{\n            name: Set(request.name),\n            ..Default::default()\n        }}\n        .insert(&self.db)\n        .await?;\n        Ok(Created::new({row}::from(row)))"
            ),
            format!(
                "        let created = plugin\n            .execute(Json({request} {{\n                name: \"Ada\".into(),\n            }}))\n            .await\n            .unwrap()\n            .into_body();\n        assert_eq!(created.name, \"Ada\");\n        let stored = {t}::Entity::find_by_id(created.id).one(&db).await.unwrap();\n        assert_eq!(stored.map(|r| r.name).as_deref(), Some(\"Ada\"));"
            ),
        ),
        Action::List => (
            format!("Lists the rows of `{t}`, by id"),
            format!(
                "\n/// The answer to `{method} {path}`.\n#[derive(Debug, Serialize, ToSchema)]\npub struct {reply} {{\n    /// Every row, by id.\n    items: Vec<{row}>,\n}}\n"
            ),
            reply.clone(),
            String::new(),
            format!(
                "        let rows = {t}::Entity::find()\n            .order_by_asc({t}::Column::Id)\n            .all(&self.db)\n            .await?;\n        Ok({reply} {{\n            items: rows.into_iter().map({row}::from).collect(),\n        }})"
            ),
            "        insert(&db, \"Ada\").await;\n        let reply = plugin.execute().await.unwrap();\n        assert_eq!(reply.items.len(), 1);\n        assert_eq!(reply.items[0].name, \"Ada\");"
                .to_string(),
        ),
        Action::Read => (
            format!("Answers one row of `{t}` by id, 404 when there is none"),
            String::new(),
            row.clone(),
            format!("Path({param}): Path<i64>"),
            format!(
                "        let row = {t}::Entity::find_by_id({param})\n            .one(&self.db)\n            .await?\n            .ok_or_else(|| Error::not_found({not_found:?}))?;\n        Ok({row}::from(row))"
            ),
            "        let id = insert(&db, \"Ada\").await;\n        assert_eq!(plugin.clone().execute(Path(id)).await.unwrap().name, \"Ada\");\n        let missing = plugin.execute(Path(id + 1)).await.unwrap_err();\n        assert_eq!(missing.kind(), ErrorKind::NotFound);"
                .to_string(),
        ),
        Action::Update => (
            format!("Renames one row of `{t}` by id, 404 when there is none"),
            body_type.clone(),
            row.clone(),
            format!("Path({param}): Path<i64>, Json(request): Json<{request}>"),
            format!(
                "        let row = {t}::Entity::find_by_id({param})\n            .one(&self.db)\n            .await?\n            .ok_or_else(|| Error::not_found({not_found:?}))?;\n        let mut row = row.into_active_model();\n        row.name = Set(request.name);\n        let row = row.update(&self.db).await?;\n        Ok({row}::from(row))"
            ),
            format!(
                "        let id = insert(&db, \"Ada\").await;\n        let renamed = plugin\n            .execute(\n                Path(id),\n                Json({request} {{\n                    name: \"Grace\".into(),\n                }}),\n            )\n            .await\n            .unwrap();\n        assert_eq!(renamed.name, \"Grace\");"
            ),
        ),
        Action::Delete => (
            format!("Deletes one row of `{t}` by id and answers it, 404 when there is none"),
            String::new(),
            row.clone(),
            format!("Path({param}): Path<i64>"),
            format!(
                "        let row = {t}::Entity::find_by_id({param})\n            .one(&self.db)\n            .await?\n            .ok_or_else(|| Error::not_found({not_found:?}))?;\n        {t}::Entity::delete_by_id({param}).exec(&self.db).await?;\n        Ok({row}::from(row))"
            ),
            format!(
                "        let id = insert(&db, \"Ada\").await;\n        assert_eq!(plugin.execute(Path(id)).await.unwrap().id, id);\n        assert_eq!({t}::Entity::find().count(&db).await.unwrap(), 0);"
            ),
        ),
    };
    let uses_insert = action != Action::Create;
    let insert_helper = if uses_insert {
        format!(
            "\n\n    /// A row named `name`, stored directly: the state the handler starts from.\n    async fn insert(db: &Db, name: &str) -> i64 {{\n        let row = {t}::ActiveModel {{\n            name: Set(name.to_string()),\n            ..Default::default()\n        }};\n        row.insert(db).await.unwrap().id\n    }}"
        )
    } else {
        String::new()
    };
    let args = if args.is_empty() {
        String::new()
    } else {
        format!(", {args}")
    };
    Ok(format!(
        r#"//! {method} {path}: the `{domain}.{plugin}` plugin. {doc}. Say here why.

use crate::prelude::*;
use crate::{domain}::models::{{{row}, {t}}};

/// Serves `{method} {path}` on the `{t}` table.
#[plugin]
pub struct {plugin} {{
    http: Http,
    db: Db,
}}
{types}
impl Plugin for {plugin} {{
    async fn on_boot(self: Arc<Self>) -> Result<()> {{
        self.http.{http_method}({path:?}, &self, Self::execute);
        Ok(())
    }}
}}

impl {plugin} {{
    async fn execute(self: Arc<Self>{args}) -> Result<{returns}> {{
{body}
    }}
}}

#[cfg(test)]
mod tests {{
    use super::*;

    #[tokio::test]
    async fn answers_from_the_table() {{
        // Db::memory(): a fresh in-memory SQLite with every migration applied.
        let db = Db::memory().await.unwrap();
        let plugin = Arc::new({plugin} {{
            http: Http::detached(),
            db: db.clone(),
        }});
{test}
    }}{insert_helper}
}}
"#,
        http_method = route.method,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_give_a_singular_row_type() {
        for (table, row) in [
            ("notes", "Note"),
            ("categories", "Category"),
            ("news", "News"),
            ("addresses", "Address"),
            ("status", "Status"),
            ("user_tags", "UserTag"),
        ] {
            assert_eq!(Table::new("d", table).row, row, "{table}");
        }
    }

    #[test]
    fn a_migration_creating_the_table_is_recognised() {
        let table = Table::new("notes", "notes");
        assert!(table.is_created_by(&["create table  NOTES(\n id int)".into()]));
        assert!(table.is_created_by(&["CREATE TABLE IF NOT EXISTS notes (x int)".into()]));
        assert!(!table.is_created_by(&["CREATE TABLE notes_archive (x int)".into()]));
    }

    #[test]
    fn only_the_five_table_actions_are_made() {
        let route = |r: &str| crate::names::route(r).unwrap();
        let table = Table::new("notes", "notes");
        for ok in [
            "POST /notes",
            "GET /notes",
            "GET /notes/{id}",
            "PATCH /n/{id}",
            "DELETE /n/{id}",
        ] {
            assert!(plugin_source(&table, "x", &route(ok)).is_ok(), "{ok}");
        }
        let refused =
            plugin_source(&table, "x", &route("POST /notes/{id}/tags/{tag}")).unwrap_err();
        assert!(
            refused.to_string().contains("--table makes a route that"),
            "{refused}"
        );
    }

    /// The files `add plugin notes <name> --route .. --table notes` writes
    /// are the ones the root package's `template_plugins` test compiles and
    /// runs on SQLite and PostgreSQL: regenerate them when a template changes.
    #[test]
    fn templates_match_the_fixture() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/template/notes");
        let fixture = |file: &str| std::fs::read_to_string(dir.join(file)).unwrap();
        let table = Table::new("notes", "notes");
        for (name, route) in [
            ("create_note", "POST /notes"),
            ("list_notes", "GET /notes"),
            ("get_note", "GET /notes/{id}"),
            ("rename_note", "PUT /notes/{id}"),
            ("delete_note", "DELETE /notes/{id}"),
        ] {
            let route = crate::names::route(route).unwrap();
            let source = crate::rustfmt::format(plugin_source(&table, name, &route).unwrap());
            assert_eq!(source, fixture(&format!("plugins/{name}.rs")), "{name}");
        }
        let models = crate::templates::render(crate::templates::MODELS, &[("domain", "notes")]);
        assert_eq!(table.added_to(&models), fixture("models.rs"));
        assert!(table.is_in(&fixture("models.rs")));
        for (suffix, sql) in table.migrations() {
            assert_eq!(
                sql,
                fixture(&format!("migrations/0001_create_notes{suffix}")),
                "{suffix}"
            );
        }
    }
}
