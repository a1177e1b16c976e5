/** Everything the notebooks use, in one import: `import * as mm from './lib/index'`. */
export * from './backend';
export * from './names';
export * from './profile';
export * from './data';
export * from './random';
export * from './display';
export * as plotly from './plotly';
export { show, Figure } from './plotly';
export * as plots from './plots';
export * from './ops';
export * from './layers';
export * from './train';
export * from './models';
export { refreshAfterStep } from './compile/record';
export { compiling } from './compile/step';
export * from './init';
export * as diag from './diagnostics';
export * from './results';
