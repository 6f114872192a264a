//! Refuses to build without `nasm`: openh264 would otherwise compile
//! without its assembly, silently, and encode several times slower.
//! Set `TETHER_ALLOW_SLOW_H264=1` to build anyway (e.g. for a quick check
//! on a machine that will never stream).

fn main() {
    println!("cargo:rerun-if-env-changed=TETHER_ALLOW_SLOW_H264");
    println!("cargo:rerun-if-env-changed=PATH");
    let has_nasm = std::process::Command::new("nasm").arg("-v").output().is_ok_and(|out| out.status.success());
    let target_arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let needs_nasm = matches!(target_arch.as_str(), "x86" | "x86_64");
    if needs_nasm && !has_nasm && std::env::var_os("TETHER_ALLOW_SLOW_H264").is_none() {
        panic!(
            "nasm not found: the H.264 encoder would build without its assembly and run several times slower. \
             Install it (Debian: apt-get install nasm), or set TETHER_ALLOW_SLOW_H264=1 to build anyway."
        );
    }
}
