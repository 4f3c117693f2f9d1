// esbuild's inject (bundle.mjs, sea/build.mjs): every free reference to the
// global `Headers` in the bundle, Connect's included, becomes this class.
export { MinimalHeaders as Headers } from "./minimal-headers.js";
