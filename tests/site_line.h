/*
 * Call sites in the test programs, by name: a line of tests/progs/<src>.c
 * carries the comment "@site:name" and site_line returns its number, so
 * sources may change without the tests' expectations changing. Shared by the shim's and
 * the CLI's Criterion binaries.
 */
#ifndef MAPGUARD_TESTS_SITE_LINE_H
#define MAPGUARD_TESTS_SITE_LINE_H

/* The line of "@site:name" in tests/progs/<src>.c; fails the test unless
 * it is there exactly once. */
int site_line(const char *src, const char *name);

#endif
