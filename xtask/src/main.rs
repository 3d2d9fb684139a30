//! `cargo xtask bundle singer-id --release`: builds the plugin and wraps it into CLAP and VST3
//! bundles under `target/bundled/` (nice-plug's bundler; names come from `bundler.toml`).

fn main() -> nice_plug_xtask::Result<()> {
    nice_plug_xtask::main()
}
