// The build found no use of `Intl`, `toLocale*String` or `localeCompare` in the Worker or its
// packages (driver.mjs, `usesIntl`), so no `Intl` is added: the engine's own (none) stays.
