package registry

import (
	"errors"
	"io"
	"io/fs"
)

// boundedReader is a file system that reads a file up to a limit itself,
// knowing its size without reading it (a git tree: the blob's header).
type boundedReader interface {
	readLimited(name string, limit int64) (data []byte, size int64, err error)
}

// readLimited reads a file of fsys, but never more than limit+1 bytes, so
// that a file larger than the limit is never held in memory whole; size is
// the file's size when fsys knows it (a regular file's stat, a git blob's
// header), else the bytes read. A file that is not a regular file is an
// error: relreg never reads a FIFO (it would block) or a device.
func readLimited(fsys fs.FS, name string, limit int64) (data []byte, size int64, err error) {
	if b, ok := fsys.(boundedReader); ok {
		return b.readLimited(name, limit)
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	if !info.Mode().IsRegular() {
		return nil, 0, &fs.PathError{Op: "read", Path: name, Err: errNotRegular}
	}
	if info.Size() > limit {
		return nil, info.Size(), nil
	}
	data, err = io.ReadAll(io.LimitReader(f, limit+1))
	return data, max(info.Size(), int64(len(data))), err
}

// errNotRegular is returned for a path that is not a regular file.
var errNotRegular = errors.New("not a regular file")

// readLimitedBlob reads a blob through its reader, but never more than
// limit+1 bytes, when its size (known from its header) is within limit.
func readLimitedBlob(open func() (io.ReadCloser, error), size, limit int64) ([]byte, int64, error) {
	if size > limit {
		return nil, size, nil
	}
	rd, err := open()
	if err != nil {
		return nil, 0, err
	}
	defer rd.Close()
	data, err := io.ReadAll(io.LimitReader(rd, limit+1))
	if err != nil {
		return nil, 0, err
	}
	return data, max(size, int64(len(data))), nil
}

// oversized is the parse of a file larger than the limit: it is not read.
func oversized(size int64, lim Limits) parsed {
	return parsed{size: size, diags: []Diagnostic{diag("yaml/limits", 1, 1,
		"file is %d bytes, over the limit of %d bytes: split it or remove unused content", size, lim.MaxFileSize)}}
}
