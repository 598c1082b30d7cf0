// Injected into the CommonJS server bundle (scripts/bundle.mjs): what `import.meta.url` stands for
// there, the URL of dist/amber-server.mjs beside it, as the ES module bundles see their own.
export const import_meta_url = require('node:url').pathToFileURL(require('node:path').join(__dirname, 'amber-server.mjs')).href;
