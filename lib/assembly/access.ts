// Reading and writing float32 values and vectors at byte address p, element i: shared by the kernels.

@inline export function at(p: usize, i: i32): usize { return p + (<usize>i << 2); }
@inline export function ld(p: usize, i: i32): f32 { return load<f32>(at(p, i)); }
@inline export function st(p: usize, i: i32, v: f32): void { store<f32>(at(p, i), v); }
@inline export function vld(p: usize, i: i32): v128 { return v128.load(at(p, i)); }
@inline export function vst(p: usize, i: i32, v: v128): void { v128.store(at(p, i), v); }

/** Store the first `n` (1 to 4) lanes of v at p[i..i+n). */
@inline export function vstPartial(p: usize, i: i32, v: v128, n: i32): void {
  st(p, i, f32x4.extract_lane(v, 0));
  if (n > 1) st(p, i + 1, f32x4.extract_lane(v, 1));
  if (n > 2) st(p, i + 2, f32x4.extract_lane(v, 2));
  if (n > 3) st(p, i + 3, f32x4.extract_lane(v, 3));
}
