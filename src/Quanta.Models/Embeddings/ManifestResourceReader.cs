using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace Quanta.Models.Embeddings;

/// <summary>
/// Reads embedded (manifest) resources out of a .NET assembly file as data, without loading or running the assembly:
/// the metadata's ManifestResource table gives each resource's offset inside the CLI resources directory, where the
/// resource is stored as a little-endian int32 length followed by its bytes.
/// </summary>
public static class ManifestResourceReader
{
    /// <summary>Names of the resources embedded in the assembly file.</summary>
    public static IReadOnlyList<string> Names(string assemblyPath)
    {
        using var fs = File.OpenRead(assemblyPath);
        using var pe = new PEReader(fs);
        var md = pe.GetMetadataReader();
        var names = new List<string>();
        foreach (var h in md.ManifestResources)
        {
            var r = md.GetManifestResource(h);
            if (r.Implementation.IsNil) names.Add(md.GetString(r.Name));
        }
        return names;
    }

    /// <summary>The bytes of the embedded resource <paramref name="name"/>; throws naming the file when it is absent.</summary>
    public static byte[] Read(string assemblyPath, string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        using var fs = File.OpenRead(assemblyPath);
        using var pe = new PEReader(fs);
        if (!pe.HasMetadata) throw new InvalidDataException($"{assemblyPath} is not a .NET assembly");
        var md = pe.GetMetadataReader();
        foreach (var h in md.ManifestResources)
        {
            var r = md.GetManifestResource(h);
            if (!r.Implementation.IsNil || !md.StringComparer.Equals(r.Name, name)) continue;
            var dir = pe.PEHeaders.CorHeader!.ResourcesDirectory;
            var block = pe.GetSectionData(dir.RelativeVirtualAddress);
            if (block.Length < dir.Size || r.Offset < 0 || r.Offset + 4 > dir.Size)
                throw new InvalidDataException($"{assemblyPath}: resource '{name}' lies outside the resources directory");
            var reader = block.GetReader((int)r.Offset, dir.Size - (int)r.Offset);
            int length = reader.ReadInt32();
            if (length < 0 || length > reader.RemainingBytes) throw new InvalidDataException($"{assemblyPath}: resource '{name}' has a bad length {length}");
            return reader.ReadBytes(length);
        }
        throw new InvalidDataException($"{assemblyPath} has no embedded resource '{name}'");
    }
}
