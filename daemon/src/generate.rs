//! Man pages and shell completions rendered from a clap definition. pdsd and pdsctl both
//! compile this one file (pdsctl includes it by path), so they render the same way.

use clap::Command;
use std::path::Path;

/// Write `<name>.1` plus one page per subcommand (`<name>-<sub>.1`) into `out`.
pub fn man_pages(cmd: Command, out: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(out)?;
    let mut cmd = cmd;
    cmd.build();
    write_man(&cmd, cmd.get_name().to_string(), out)
}

fn write_man(cmd: &Command, name: String, out: &Path) -> std::io::Result<()> {
    let page = cmd.clone().name(name.clone());
    let mut buf = Vec::new();
    clap_mangen::Man::new(page).render(&mut buf)?;
    std::fs::write(out.join(format!("{name}.1")), buf)?;
    for sub in cmd.get_subcommands() {
        if sub.is_hide_set() || sub.get_name() == "help" {
            continue;
        }
        write_man(sub, format!("{name}-{}", sub.get_name()), out)?;
    }
    Ok(())
}

/// Write bash, zsh and fish completions into `out`.
pub fn completions(mut cmd: Command, out: &Path) -> std::io::Result<()> {
    use clap_complete::Shell;
    std::fs::create_dir_all(out)?;
    let name = cmd.get_name().to_string();
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        clap_complete::generate_to(shell, &mut cmd, &name, out)?;
    }
    Ok(())
}
