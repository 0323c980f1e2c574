namespace Registry.Core.Access;

/// <summary>
/// One ASP.NET data-protection key (as its XML), kept in the database so that every instance signs
/// and reads the same cookies and antiforgery tokens.
/// </summary>
public sealed class ProtectionKey
{
    public long Id { get; set; }

    /// <summary>The name data protection gave the key (<c>key-&lt;guid&gt;</c>).</summary>
    public string? FriendlyName { get; set; }

    /// <summary>The key element, as data protection wrote it.</summary>
    public required string Xml { get; set; }
}
