using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp;
using static TorchSharp.torch;

namespace Foresight.Runs;

/// <summary>
/// The safetensors format, as the Python safetensors library reads and writes it: an 8-byte
/// little-endian header length, a JSON header mapping each tensor name to its dtype, shape and
/// [begin, end) byte offsets into the data that follows, then the raw little-endian data.
/// </summary>
public static class SafeTensors
{
    private static readonly Dictionary<ScalarType, string> Names = new()
    {
        [ScalarType.Float32] = "F32",
        [ScalarType.Float64] = "F64",
        [ScalarType.Float16] = "F16",
        [ScalarType.BFloat16] = "BF16",
        [ScalarType.Int64] = "I64",
        [ScalarType.Int32] = "I32",
        [ScalarType.Int16] = "I16",
        [ScalarType.Int8] = "I8",
        [ScalarType.Byte] = "U8",
        [ScalarType.Bool] = "BOOL",
    };

    private static readonly Dictionary<string, ScalarType> Types = Names.ToDictionary(p => p.Value, p => p.Key);

    /// <summary>Writes the tensors (sorted by name) to a temporary file and renames it into place.</summary>
    public static void Write(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("safetensors export needs a little-endian machine");
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
            header["__metadata__"] = new JsonObject(metadata.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value)));
        var ordered = tensors.OrderBy(p => p.Key, StringComparer.Ordinal).ToList();
        long offset = 0;
        foreach (var (name, tensor) in ordered)
        {
            if (!Names.TryGetValue(tensor.dtype, out string? dtype))
                throw new ArgumentException($"tensor '{name}' has dtype {tensor.dtype}, which safetensors export does not handle");
            long size = tensor.numel() * tensor.ElementSize;
            header[name] = new JsonObject
            {
                ["dtype"] = dtype,
                ["shape"] = new JsonArray(tensor.shape.Select(d => (JsonNode)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + size),
            };
            offset += size;
        }

        byte[] headerBytes = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padding = (8 - headerBytes.Length % 8) % 8; // the format pads the header with spaces to 8-byte alignment
        AtomicFile.WriteStream(path, stream =>
        {
            var length = new byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)(headerBytes.Length + padding));
            stream.Write(length);
            stream.Write(headerBytes);
            for (int i = 0; i < padding; i++) stream.WriteByte((byte)' ');
            foreach (var (_, tensor) in ordered)
            {
                using var contiguous = tensor.detach().cpu().contiguous();
                stream.Write(contiguous.bytes);
            }
        });
    }

    /// <summary>Reads every tensor of a safetensors file; throws <see cref="UserError"/> naming what is malformed.</summary>
    public static Dictionary<string, Tensor> Read(string path)
    {
        if (!File.Exists(path)) throw new UserError($"safetensors file '{path}' does not exist");
        byte[] file = File.ReadAllBytes(path);
        if (file.Length < 8) throw new UserError($"{path}: too short for a safetensors header");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(file);
        if (headerLength > (ulong)(file.Length - 8)) throw new UserError($"{path}: header length {headerLength} runs past the end of the file");
        long dataStart = 8 + (long)headerLength;

        JsonObject header;
        try { header = JsonNode.Parse(file.AsSpan(8, (int)headerLength))!.AsObject(); }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NullReferenceException)
        {
            throw new UserError($"{path}: the header is not a JSON object: {e.Message}");
        }

        var tensors = new Dictionary<string, Tensor>();
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__") continue;
            string dtype = node?["dtype"]?.GetValue<string>() ?? throw new UserError($"{path}: tensor '{name}' has no dtype");
            if (!Types.TryGetValue(dtype, out var type)) throw new UserError($"{path}: tensor '{name}' has unsupported dtype {dtype}");
            long[] shape = node["shape"]?.AsArray().Select(d => d!.GetValue<long>()).ToArray() ?? throw new UserError($"{path}: tensor '{name}' has no shape");
            var offsets = node["data_offsets"]?.AsArray().Select(d => d!.GetValue<long>()).ToArray();
            if (offsets is not { Length: 2 }) throw new UserError($"{path}: tensor '{name}' has no [begin, end] data_offsets");

            var tensor = empty(shape, type);
            long expected = tensor.numel() * tensor.ElementSize;
            if (offsets[1] - offsets[0] != expected || offsets[0] < 0 || dataStart + offsets[1] > file.Length)
            {
                tensor.Dispose();
                throw new UserError($"{path}: tensor '{name}' ({dtype} {string.Join('x', shape)}) needs {expected} bytes but its offsets are [{offsets[0]}, {offsets[1]}) in {file.Length - dataStart} bytes of data");
            }
            file.AsSpan((int)(dataStart + offsets[0]), (int)expected).CopyTo(tensor.bytes);
            tensors[name] = tensor;
        }
        return tensors;
    }

    /// <summary>Copies a file's tensors into a module's parameters and buffers; every name and shape must match.</summary>
    public static void LoadInto(nn.Module module, string path)
    {
        var tensors = Read(path);
        try
        {
            var expected = module.state_dict();
            var missing = expected.Keys.Except(tensors.Keys).ToList();
            var extra = tensors.Keys.Except(expected.Keys).ToList();
            if (missing.Count > 0 || extra.Count > 0)
                throw new UserError($"{path} does not fit this run's model: missing [{string.Join(", ", missing)}], unexpected [{string.Join(", ", extra)}]");
            foreach (var (name, target) in expected)
            {
                var source = tensors[name];
                if (!source.shape.SequenceEqual(target.shape) || source.dtype != target.dtype)
                    throw new UserError($"{path}: '{name}' is {source.dtype} [{string.Join(", ", source.shape)}] but the model has {target.dtype} [{string.Join(", ", target.shape)}]");
                using var _ = no_grad();
                target.copy_(source);
            }
        }
        finally
        {
            foreach (var tensor in tensors.Values) tensor.Dispose();
        }
    }
}
