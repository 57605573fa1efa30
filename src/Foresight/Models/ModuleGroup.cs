using static TorchSharp.torch;

namespace Foresight.Models;

/// <summary>A method's modules under one root (named parts), so the optimizer and the checkpoint see every parameter.</summary>
public sealed class ModuleGroup : nn.Module
{
    public ModuleGroup(params (string Name, nn.Module Module)[] parts) : base(nameof(ModuleGroup))
    {
        foreach (var (name, module) in parts) register_module(name, module);
    }
}
