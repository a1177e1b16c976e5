// The entry of the WebAssembly module (tools/build-wasm.js compiles it): the training-step kernels and
// the generic kernels of recorded operations, in one module that imports only env.memory.
export * from './kernels';
export * from './ops';
