//! The built wasm bundle as the pages load it. The build splits it (`cargo leptos build --split`):
//! a small main module every island needs, and the code of each lazy island (`#[island(lazy)]`:
//! the replay, the feedback, ...) in files of its own, some shared between islands. cargo-leptos
//! writes which files each island needs to `{site}/{pkg}/__wasm_split_manifest.json`; a page that
//! opens on an island preloads them with the main module, so they download side by side rather
//! than one after another.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

use leptos::config::LeptosOptions;

/// A lazy island a page opens on, named as in the split manifest (`{name}_loader_{hash}`). (The
/// live call is not an island: its page loads a bundle of its own, `crate::call`.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Island {
    Replay,
}

impl Island {
    fn loader(self) -> &'static str {
        match self {
            Self::Replay => "replay_player_loader_",
        }
    }
}

/// What the split build wrote: the loader script and each island's wasm files.
#[derive(Debug, Default)]
struct Split {
    /// The script that fetches an island's files (imported by the main script).
    loader: Option<String>,
    /// Island loader name -> the names of its wasm files, without `.wasm`.
    islands: HashMap<String, Vec<String>>,
}

impl Split {
    fn read(pkg: &Path) -> Self {
        let islands = std::fs::read(pkg.join("__wasm_split_manifest.json"))
            .ok()
            .and_then(|json| serde_json::from_slice(&json).ok())
            .unwrap_or_default();
        let loader = std::fs::read_dir(pkg).ok().and_then(|entries| {
            entries.flatten().find_map(|entry| {
                let name = entry.file_name().into_string().ok()?;
                (name.starts_with("__wasm_split.") && name.ends_with(".js")).then_some(name)
            })
        });
        Self { loader, islands }
    }
}

/// The URLs to preload, besides the main script and wasm, for a page that opens on `island`:
/// the split loader script first, then the island's wasm files. Empty for a bundle built
/// without `--split` (nothing to add) or one whose manifest does not name the island.
pub fn island_files(options: &LeptosOptions, island: Island) -> (Option<String>, Vec<String>) {
    // Read once per site directory (one in the app; tests make their own).
    static READ: Mutex<Vec<(PathBuf, Arc<Split>)>> = Mutex::new(Vec::new());
    let pkg = &options.site_pkg_dir;
    let dir = Path::new(&*options.site_root).join(&**pkg);
    let split = {
        let mut read = READ.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        match read.iter().find(|(at, _)| *at == dir) {
            Some((_, split)) => split.clone(),
            None => {
                let split = Arc::new(Split::read(&dir));
                read.push((dir, split.clone()));
                split
            }
        }
    };
    let loader = split.loader.as_ref().map(|name| format!("/{pkg}/{name}"));
    let wasm = split
        .islands
        .iter()
        .find(|(name, _)| name.starts_with(island.loader()))
        .map(|(_, files)| {
            files
                .iter()
                .map(|file| format!("/{pkg}/{file}.wasm"))
                .collect()
        })
        .unwrap_or_default();
    (loader, wasm)
}

#[cfg(test)]
mod tests {
    use super::Split;

    #[test]
    fn reads_what_the_split_build_wrote() {
        let dir = std::env::temp_dir().join(format!("bundle-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("__wasm_split_manifest.json"),
            r#"{"replay_loader_12": ["chunk_7", "split_replay_loader_12"]}"#,
        )
        .unwrap();
        std::fs::write(dir.join("__wasm_split.____.js"), "").unwrap();
        let split = Split::read(&dir);
        assert_eq!(split.loader.as_deref(), Some("__wasm_split.____.js"));
        assert_eq!(
            split.islands["replay_loader_12"],
            ["chunk_7", "split_replay_loader_12"]
        );
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(Split::read(&dir).islands.is_empty());
    }
}
