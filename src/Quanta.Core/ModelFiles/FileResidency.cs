using Quanta.Core.Memory;

namespace Quanta.Core.ModelFiles;

/// <summary>Where a model file's bytes live while it is open.</summary>
public enum FileResidency
{
    /// <summary>A read-only memory mapping of the file (zero-copy, shared with the page cache; 4 KiB pages).</summary>
    Mapped,

    /// <summary>A private copy in anonymous memory advised for huge pages (<see cref="HugePages"/>): the file is read
    /// once at open; a decode step then takes one TLB miss per 2 MiB of weights instead of per 4 KiB.</summary>
    HugePages,
}
