// The README's tutorial, a whole program, taken from the README at build time and run by the
// test `snippets: the README tutorial prints its firing`.
#include "README.md.tutorial.inc"
