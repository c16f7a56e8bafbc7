//! Getting the plan in: the importer that parses the source document, and the shapes of the
//! data files under `seeds/`.

pub mod importer;
pub mod seed;
