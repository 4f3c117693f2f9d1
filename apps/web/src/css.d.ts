// esbuild bundles imported stylesheets into dist/app.css; to TypeScript they are side effects only.
declare module "*.css";
