/**
 * Sizes libuv's thread pool before anything starts it: it must be imported first by ./main.ts. The store
 * fsyncs many files and directories at once (group commit, ./store/group-commit.ts); with the default 4 threads they
 * would queue behind each other instead of being merged by the file system's journal. An explicit
 * UV_THREADPOOL_SIZE in the environment wins.
 */
export const THREADPOOL_SIZE = 64;

if (!process.env.UV_THREADPOOL_SIZE) process.env.UV_THREADPOOL_SIZE = String(THREADPOOL_SIZE);
