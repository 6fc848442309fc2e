using System.Globalization;
using System.Text.Json;

namespace TcpIpSharp.Tests.Support;

/// <summary>One frame's fields as flat "layer.key" -> text pairs ("ipv4.src" -> "10.0.0.1", "udp.checksum_ok" -> "true").</summary>
internal sealed class FrameFields : Dictionary<string, string>
{
    public FrameFields() : base(StringComparer.Ordinal) { }

    public string? Get(string key) => TryGetValue(key, out var v) ? v : null;

    public bool HasLayer(string layer) => Keys.Any(k => k.StartsWith(layer + ".", StringComparison.Ordinal));

    public void Set(string key, object? value)
    {
        if (value is null) return;
        this[key] = value switch
        {
            bool b => b ? "true" : "false",
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => value.ToString()!,
        };
    }

    /// <summary>
    /// Flattens a decode --json object: nested objects join their names with '.'; an array of objects gives "key.count" and,
    /// for each member name, "key.member" with the members' values joined by a space ("dns.questions.name"); any other
    /// array is kept as raw JSON text ("tcp.sack" -> "[[1,16]]").
    /// </summary>
    public static FrameFields FromJson(JsonElement root)
    {
        var fields = new FrameFields();
        Flatten(root, "", fields);
        return fields;
    }

    private static void Flatten(JsonElement element, string prefix, FrameFields fields)
    {
        foreach (var property in element.EnumerateObject())
        {
            string key = prefix + property.Name;
            switch (property.Value.ValueKind)
            {
                case JsonValueKind.Object: Flatten(property.Value, key + ".", fields); break;
                case JsonValueKind.Array when property.Value.EnumerateArray().Any(e => e.ValueKind == JsonValueKind.Object):
                    var items = property.Value.EnumerateArray().Select(FromJson).ToList();
                    fields[key + ".count"] = items.Count.ToString(CultureInfo.InvariantCulture);
                    foreach (string member in items.SelectMany(i => i.Keys).Distinct())
                        fields[key + "." + member] = string.Join(' ', items.Select(i => i.Get(member) ?? ""));
                    break;
                case JsonValueKind.Array when property.Value.GetArrayLength() == 0:
                    fields[key + ".count"] = "0";
                    break;
                case JsonValueKind.String: fields[key] = property.Value.GetString()!; break;
                case JsonValueKind.True: fields[key] = "true"; break;
                case JsonValueKind.False: fields[key] = "false"; break;
                default: fields[key] = property.Value.GetRawText(); break;
            }
        }
    }
}
