//! One-time password suggestions, drawn from the browser's CSPRNG.

/// Characters that cannot be mistaken for each other when read aloud or
/// copied by hand (no `0/O`, `1/l/I`).
const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// A random password like `k7Qm-3xPa-Wn9d-Ht4e` (16 symbols, ~92 bits), or
/// `None` if the browser offers no `crypto.getRandomValues`.
pub fn generate_password() -> Option<String> {
    let crypto = web_sys::window()?.crypto().ok()?;
    // Rejection sampling keeps every symbol equally likely.
    let limit = 256 - 256 % ALPHABET.len();
    let mut symbols = Vec::with_capacity(16);
    let mut buffer = [0u8; 32];
    while symbols.len() < 16 {
        crypto.get_random_values_with_u8_array(&mut buffer).ok()?;
        for &byte in &buffer {
            if usize::from(byte) < limit && symbols.len() < 16 {
                symbols.push(char::from(ALPHABET[usize::from(byte) % ALPHABET.len()]));
            }
        }
    }
    let groups: Vec<String> = symbols.chunks(4).map(|chunk| chunk.iter().collect()).collect();
    Some(groups.join("-"))
}
