namespace Registry.Core;

/// <summary>
/// The places a refusal can point a person to, named in the registry's words. The web layer decides
/// what each one is for its callers (a REST route, a page), so Core never spells a URL.
/// </summary>
public enum LinkRelation
{
    /// <summary>The models that exist.</summary>
    Models,
    /// <summary>One model's versions; needs <see cref="RegistryLink.Model"/>.</summary>
    Versions,
    /// <summary>One model's aliases; needs <see cref="RegistryLink.Model"/>.</summary>
    Aliases,
    /// <summary>The promotion requests.</summary>
    Promotions,
    /// <summary>Withdrawing one promotion request; needs <see cref="RegistryLink.Request"/>.</summary>
    CancelPromotion,
    /// <summary>The signed-in person's own API keys, where people create theirs.</summary>
    OwnKeys,
}
