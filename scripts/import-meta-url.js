// Injected into the CommonJS bundles (scripts/bundle.mjs): what `import.meta.url` stands for there,
// the URL of the bundle's own file, as an ES module sees its own (the entry dist/amber-server.cjs;
// dist/amber-server-bundle.cjs, whose __filename bootstrap.ts passes when it runs it).
export const import_meta_url = require('node:url').pathToFileURL(__filename).href;
