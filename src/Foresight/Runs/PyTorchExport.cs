using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Foresight.Models;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Foresight.Runs;

/// <summary>
/// A run's GPT as PyTorch reads it: a state_dict file that <c>torch.load</c> opens, the backbone under nanoGPT's names
/// (transformer.wte, transformer.h.N.attn.c_attn, ..., and lm_head, tied to wte), and a JSON config from which
/// tools/foresight_gpt.py rebuilds the model. The layouts already agree (Linear weights are (out, in); c_attn's output
/// is q, k, v, each split into heads), so no tensor is transposed or reordered. Tensors a method trains beside its
/// backbone (extra heads, a second encoder) keep their Foresight names under "foresight.".
/// </summary>
public static partial class PyTorchExport
{
    /// <summary>Foresight's GPT parameter names -> nanoGPT's; null for a name that is not a GPT parameter.</summary>
    public static string? NanoGptName(string name)
    {
        if (BlockParameter().Match(name) is { Success: true } m)
        {
            string part = m.Groups[2].Value switch
            {
                "attention_norm" => "ln_1",
                "attention.qkv" => "attn.c_attn",
                "attention.output_projection" => "attn.c_proj",
                "mlp_norm" => "ln_2",
                "mlp.expand" => "mlp.c_fc",
                _ => "mlp.c_proj", // mlp.output_projection: the pattern admits no other part
            };
            return $"transformer.h.{m.Groups[1].Value}.{part}.{m.Groups[3].Value}";
        }
        return name switch
        {
            "token_embedding.weight" => "transformer.wte.weight",
            "position_embedding.weight" => "transformer.wpe.weight",
            "final_norm.weight" => "transformer.ln_f.weight",
            "final_norm.bias" => "transformer.ln_f.bias",
            _ => null,
        };
    }

    [GeneratedRegex(@"^blocks\.(\d+)\.(attention_norm|attention\.qkv|attention\.output_projection|mlp_norm|mlp\.expand|mlp\.output_projection)\.(weight|bias)$")]
    private static partial Regex BlockParameter();

    /// <summary>The (first) GPT in <paramref name="model"/> and the prefix of its parameter names there.</summary>
    public static (string Prefix, Gpt Gpt) FindGpt(nn.Module model) =>
        model is Gpt self ? ("", self)
            : model.named_modules().Where(m => m.module is Gpt).Select(m => (m.name + ".", (Gpt)m.module)).FirstOrDefault() is { Item2: not null } found
                ? found
                : throw new UserError("--format pytorch writes GPT backbones; this run's model has none (a Mamba run exports as safetensors)");

    /// <summary>The state_dict as written: nanoGPT names for the (first) GPT in <paramref name="model"/>, lm_head tied to wte, the rest under "foresight.".</summary>
    public static Dictionary<string, Tensor> StateDict(nn.Module model) => StateDict(model, FindGpt(model).Prefix);

    private static Dictionary<string, Tensor> StateDict(nn.Module model, string prefix)
    {
        var weights = new Dictionary<string, Tensor>();
        foreach (var (name, tensor) in model.state_dict())
            weights[(name.StartsWith(prefix) ? NanoGptName(name[prefix.Length..]) : null) ?? $"foresight.{name}"] = tensor;
        weights["lm_head.weight"] = weights["transformer.wte.weight"];
        return weights;
    }

    /// <summary>What tools/foresight_gpt.py needs to rebuild the GPT, and where the run came from.</summary>
    public static JsonObject Config(Gpt gpt, RunConfig run, string task, IEnumerable<string> extraTensors) => new()
    {
        ["architecture"] = "foresight-gpt: nanoGPT's GPT (pre-LayerNorm, exact GELU, biases, lm_head tied to wte)",
        ["vocab_size"] = gpt.Config.VocabularySize,
        ["block_size"] = gpt.Config.BlockSize,
        ["n_layer"] = gpt.Config.Layers,
        ["n_head"] = gpt.Config.Heads,
        ["n_embd"] = gpt.Config.Width,
        ["positions"] = Json.EnumName(gpt.Config.Positions),
        ["causal"] = gpt.Config.Causal,
        ["bidirectional_tail"] = gpt.Config.BidirectionalTail,
        ["layer_norm_eps"] = 1e-5,
        ["trained_precision"] = Json.EnumName(gpt.Config.Precision),
        ["method"] = run.Method,
        ["task"] = task,
        ["extra_tensors"] = new JsonArray([.. extraTensors.Select(t => (JsonNode)t)]),
        ["run_config"] = run.ToJson(),
    };

    /// <summary>Writes <paramref name="file"/> (torch.load reads it) and its config beside it; returns the config's path.</summary>
    public static string Write(string file, nn.Module model, RunConfig run, string task)
    {
        var (prefix, gpt) = FindGpt(model);
        var weights = StateDict(model, prefix);
        using (var stream = File.Create(file)) PyTorchPickler.PickleStateDict(stream, weights);
        string configFile = Path.ChangeExtension(file, ".json");
        Json.WriteAtomic(configFile, Config(gpt, run, task, weights.Keys.Where(k => k.StartsWith("foresight."))));
        return configFile;
    }
}
