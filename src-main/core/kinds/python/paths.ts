/** Where a wheel's files sit in a bundle (docs/bundle-format.md); no imports, so any stage may use it. */
export const PYTHON_FILES_DIR = 'python/files';
export const wheelPath = (filename: string): string => `${PYTHON_FILES_DIR}/${filename}`;
export const metadataPath = (filename: string): string => `${wheelPath(filename)}.metadata`;
