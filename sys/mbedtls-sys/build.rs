//! Writes $OUT_DIR/bindings.rs: from the SDK headers when an SDK is found, else the committed
//! bindings. The configuration lives in `ws63-bindgen`.
fn main() {
    ws63_bindgen::build_script(&ws63_bindgen::MBEDTLS);
}
