using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using Quanta.Core.Memory;

namespace Quanta.Core.ModelFiles;

/// <summary>
/// A read-only block of bytes that stays at a fixed address until disposed: one view of a memory-mapped file, a
/// copy of a file in huge pages, or a pinned managed array. Readers parse through its pointer with explicit
/// bounds checks and hand out zero-copy views that are valid only until <see cref="NativeRegion.Dispose"/>.
/// File objects expose it publicly as a <see cref="NativeRegion"/> (bounds-checked spans, no addresses).
/// </summary>
internal abstract unsafe class ByteRegion : NativeRegion
{
    /// <summary>Maps <paramref name="path"/> read-only (one view over the whole file).</summary>
    /// <exception cref="ModelFileException">The file is empty (nothing to map).</exception>
    public static ByteRegion MapFile(string path)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.RandomAccess);
        try
        {
            if (stream.Length == 0) throw new ModelFileException(path, "file is empty (0 bytes)");
            return new MappedFileRegion(stream);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Reads <paramref name="path"/> into a block of anonymous memory in huge pages
    /// (<see cref="HugePages"/>): a copy instead of a mapping, for weights that every step streams.</summary>
    /// <exception cref="ModelFileException">The file is empty.</exception>
    public static ByteRegion ReadFileHugePages(string path)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.SequentialScan);
        long length = RandomAccess.GetLength(handle);
        if (length == 0) throw new ModelFileException(path, "file is empty (0 bytes)");
        return new HugePageRegion(handle, path, length);
    }

    /// <summary>Pins <paramref name="data"/> (not copied) for the lifetime of the region.</summary>
    public static ByteRegion Pin(byte[] data) => new PinnedArrayRegion(data);

    private sealed class MappedFileRegion : ByteRegion
    {
        private readonly MemoryMappedFile _map;
        private readonly MemoryMappedViewAccessor _view;

        public MappedFileRegion(FileStream stream)
        {
            long length = stream.Length;
            _map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            try
            {
                _view = _map.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
                byte* p = null;
                _view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
                Pointer = p + _view.PointerOffset;
                Length = length;
            }
            catch
            {
                _view?.Dispose();
                _map.Dispose();
                throw;
            }
        }

        protected override void Release()
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
            _map.Dispose();
        }
    }

    private sealed class HugePageRegion : ByteRegion
    {
        public HugePageRegion(Microsoft.Win32.SafeHandles.SafeFileHandle handle, string path, long length)
        {
            byte* p = HugePages.Allocate(length);
            try
            {
                for (long done = 0; done < length;)
                {
                    int want = (int)Math.Min(1 << 30, length - done);
                    int got = RandomAccess.Read(handle, new Span<byte>(p + done, want), done);
                    if (got <= 0) throw new ModelFileException(path, $"file ended at {done} of {length} bytes while reading");
                    done += got;
                }
            }
            catch
            {
                HugePages.Free(p);
                throw;
            }
            Pointer = p;
            Length = length;
        }

        protected override void Release() => HugePages.Free(Pointer);
    }

    private sealed class PinnedArrayRegion : ByteRegion
    {
        private GCHandle _handle;

        public PinnedArrayRegion(byte[] data)
        {
            ArgumentNullException.ThrowIfNull(data);
            _handle = GCHandle.Alloc(data, GCHandleType.Pinned);
            Pointer = (byte*)_handle.AddrOfPinnedObject();
            Length = data.Length;
        }

        protected override void Release() => _handle.Free();
    }
}
