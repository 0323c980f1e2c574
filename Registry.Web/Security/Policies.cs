namespace Registry.Web.Security;

/// <summary>Policy names as constants, for [Authorize] attributes on pages; each is a <see cref="Registry.Core.Access.Permission"/>'s policy.</summary>
public static class Policies
{
    public const string Read = "registry:read";
    public const string Write = "registry:write";
    public const string Validate = "registry:validate";
    public const string ReadOwnKeys = "registry:keys.read";
    public const string ManageOwnKeys = "registry:keys.write";
    public const string ReadAdministration = "registry:admin.read";
    public const string Administer = "registry:admin.write";
    public const string RequestPromotion = "registry:promote.request";
    public const string Approve = "registry:promote.approve";
    public const string ManageAliases = "registry:aliases.write";
    public const string ManagePolicy = "registry:policy.write";
}
