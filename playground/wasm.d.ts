/** A .wasm file imported by the playground's worker: its bytes (esbuild's `binary` loader). */
declare module '*.wasm' {
  const bytes: Uint8Array;
  export default bytes;
}
