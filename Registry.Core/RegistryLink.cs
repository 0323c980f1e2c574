namespace Registry.Core;

/// <summary>
/// Where a refusal's advice leads: a <see cref="LinkRelation"/> and the facts its place needs (a
/// model's name, a request's id). A hint, not a URL: the web layer turns it into one.
/// </summary>
public sealed record RegistryLink(LinkRelation Relation, string? Model = null, long? Request = null)
{
    /// <summary>The models that exist.</summary>
    public static RegistryLink Models { get; } = new(LinkRelation.Models);

    /// <summary>The promotion requests.</summary>
    public static RegistryLink Promotions { get; } = new(LinkRelation.Promotions);

    /// <summary>The signed-in person's own API keys.</summary>
    public static RegistryLink OwnKeys { get; } = new(LinkRelation.OwnKeys);

    /// <summary>A model's versions.</summary>
    public static RegistryLink Versions(string model) => new(LinkRelation.Versions, Model: model);

    /// <summary>A model's aliases.</summary>
    public static RegistryLink Aliases(string model) => new(LinkRelation.Aliases, Model: model);

    /// <summary>Withdrawing a promotion request.</summary>
    public static RegistryLink CancelPromotion(long request) => new(LinkRelation.CancelPromotion, Request: request);
}
