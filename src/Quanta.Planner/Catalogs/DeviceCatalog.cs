namespace Quanta.Planner.Catalogs;

/// <summary>
/// The device catalog: the built-in devices.json, optionally extended by user files of the same format (a user
/// device with an existing id replaces it). Every figure must name its source.
/// </summary>
public sealed class DeviceCatalog
{
    private sealed record FileShape(string? Format, IReadOnlyList<DeviceSpec>? Devices);

    private readonly List<DeviceSpec> _devices;

    private DeviceCatalog(List<DeviceSpec> devices) => _devices = devices;

    /// <summary>The devices, in catalog order.</summary>
    public IReadOnlyList<DeviceSpec> Devices => _devices;

    /// <summary>The built-in catalog.</summary>
    public static DeviceCatalog BuiltIn() => new(Parse(CatalogJson.BuiltIn("devices.json"), "built-in devices.json"));

    /// <summary>Parses a catalog document (the devices.json format).</summary>
    /// <exception cref="InvalidDataException">Malformed JSON, a device without id/name, or a figure without a source.</exception>
    public static IReadOnlyList<DeviceSpec> ParseDevices(string json, string origin) => Parse(json, origin);

    /// <summary>The built-in catalog plus the devices of <paramref name="userFiles"/> (same format), later ones replacing by id.</summary>
    public static DeviceCatalog Load(IEnumerable<string> userFiles)
    {
        var list = Parse(CatalogJson.BuiltIn("devices.json"), "built-in devices.json");
        foreach (string f in userFiles)
        {
            if (!File.Exists(f)) throw new FileNotFoundException($"device catalog not found: {f}", f);
            foreach (var d in Parse(File.ReadAllText(f), f))
            {
                int i = list.FindIndex(x => string.Equals(x.Id, d.Id, StringComparison.OrdinalIgnoreCase));
                if (i >= 0) list[i] = d; else list.Add(d);
            }
        }
        return new DeviceCatalog(list);
    }

    /// <summary>Finds a device by id, name or alias (case, spaces and punctuation ignored); null when none matches.</summary>
    public DeviceSpec? Find(string name)
    {
        string k = CatalogJson.Key(name);
        return _devices.FirstOrDefault(d => CatalogJson.Key(d.Id) == k || CatalogJson.Key(d.Name) == k || d.Aliases.Any(a => CatalogJson.Key(a) == k));
    }

    /// <summary>Like <see cref="Find"/> but raises ArgumentException listing the known ids.</summary>
    public DeviceSpec Get(string name) => Find(name)
        ?? throw new ArgumentException($"unknown device '{name}' (known: {string.Join(", ", _devices.Select(d => d.Id))})");

    private static List<DeviceSpec> Parse(string json, string origin)
    {
        var shape = CatalogJson.Parse<FileShape>(json, origin);
        var list = (shape.Devices ?? throw new InvalidDataException($"{origin}: no \"devices\" array")).ToList();
        foreach (var d in list)
        {
            if (string.IsNullOrWhiteSpace(d.Id) || string.IsNullOrWhiteSpace(d.Name))
                throw new InvalidDataException($"{origin}: a device lacks \"id\" or \"name\"");
            if (d.Aliases is null) throw new InvalidDataException($"{origin}: device {d.Id} lacks \"aliases\" (use [] for none)");
            foreach (var (field, fig) in d.Figures())
            {
                if (fig is null) throw new InvalidDataException($"{origin}: device {d.Id} lacks \"{field}\"");
                if (string.IsNullOrWhiteSpace(fig.Source)) throw new InvalidDataException($"{origin}: device {d.Id} field {field} has no source");
            }
        }
        return list;
    }
}
