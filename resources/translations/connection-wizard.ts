<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1">
<context>
    <name></name>
    <message>
        <location filename="../../wizard/gui/flow/importing.py" line="59"/>
        <source>The file is larger than 1 MiB; it is not a connection profile.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/importing.py" line="62"/>
        <source>Cannot read {path}: {why}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/importing.py" line="66"/>
        <source>{name} is not a connection profile (it is not JSON).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/importing.py" line="70"/>
        <source>{name} cannot be imported: {why}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/new_connection.py" line="53"/>
        <source>The Windows default: L2TP protected by IPsec, with a pre-shared key or certificate.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/new_connection.py" line="54"/>
        <source>IPsec tunnel with user name and password (Cisco-style remote access, IKEv1 XAUTH).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/new_connection.py" line="55"/>
        <source>Host-to-host IPsec protecting all traffic to one server (no user name).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/new_connection.py" line="56"/>
        <source>L2TP without IPsec: not encrypted unless MPPE is offered; only inside a trusted network.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/new_connection.py" line="57"/>
        <source>Insecure legacy protocol: passwords can be cracked offline. Only if nothing else works.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/new_connection.py" line="94"/>
        <source>password</source>
        <extracomment>What the type page offers, in order, with the one-line explanation shown under each choice. Protocols shown only when the engine can connect them (IKEv2 lands in its own issue).</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/new_connection.py" line="95"/>
        <source>pre-shared key</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/new_connection.py" line="96"/>
        <source>private key passphrase</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/new_connection.py" line="230"/>
        <source>Give the connection a name, e.g. “Office”.</source>
        <extracomment>names already taken by other stored connections (checked as the user types) whether a secure keyring exists (otherwise nothing can be saved) secrets already in the keyring for the profile being edited (empty field = keep)</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/new_connection.py" line="232"/>
        <source>Use 1 to 100 characters without spaces at either end.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/new_connection.py" line="234"/>
        <source>You already have a connection called “{name}”; pick another name.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/new_connection.py" line="237"/>
        <source>Enter the gateway&apos;s host name or IP address.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/new_connection.py" line="242"/>
        <source>“{host}” is not a host name or IP address; e.g. vpn.example.com or 203.0.113.5.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/new_connection.py" line="253"/>
        <source>Enter the user name your administrator gave you.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/new_connection.py" line="255"/>
        <source>Use at most 256 printable characters.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/new_connection.py" line="258"/>
        <source>Enter the {what}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/new_connection.py" line="263"/>
        <source>private key</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/new_connection.py" line="279"/>
        <source>“{route}” is not a network; write CIDR like 10.0.0.0/8.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/new_connection.py" line="282"/>
        <source>A split tunnel needs networks to send through the VPN, or the gateway&apos;s routes.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/new_connection.py" line="287"/>
        <source>“{server}” is not an IP address.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/new_connection.py" line="293"/>
        <source>“{domain}” is not a domain name, e.g. corp.example.com.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/new_connection.py" line="299"/>
        <source>Use 0 (keep trying) to 1000 attempts.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/new_connection.py" line="310"/>
        <source>List at least one proposal, e.g. aes256-sha256-modp2048.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/new_connection.py" line="318"/>
        <source>{proposal} uses {names}: {why}. Turn on “Allow legacy algorithms” only if the gateway needs it.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/new_connection.py" line="459"/>
        <source>Require encryption (MPPE): refuse to connect without it</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/new_connection.py" line="460"/>
        <source>Use encryption (MPPE) if the gateway offers it</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/new_connection.py" line="461"/>
        <source>No MPPE (the link is protected some other way)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/new_connection.py" line="468"/>
        <source>Legacy algorithms are broken or weak: DES can be brute-forced in hours, 3DES leaks data over long sessions (Sweet32), MD5 is broken, and Diffie-Hellman groups under 2048 bits (MODP-768/1024/1536) can be broken by a well-funded attacker (Logjam). Someone who records your traffic may read it later. Turn this on only for an old gateway you cannot upgrade.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/new_connection.py" line="479"/>
        <source>Choose the {what} file.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/new_connection.py" line="482"/>
        <source>Use the full path of the file (starting with /).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/new_connection.py" line="486"/>
        <source>There is no file at {path}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/new_connection.py" line="488"/>
        <source>{path} is not a file.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/new_connection.py" line="490"/>
        <source>{path} is larger than 1 MiB; is it really a {what}?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/new_connection.py" line="495"/>
        <source>You may not read {path}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/new_connection.py" line="501"/>
        <source>certificate</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/new_connection.py" line="513"/>
        <source>{path} does not hold a certificate (PEM or DER).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/phonebook.py" line="30"/>
        <source>this file holds no gateways</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/phonebook.py" line="30"/>
        <source>a profile export, {&quot;gateways&quot;: [...]} or a list of hosts</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/phonebook.py" line="33"/>
        <source>the phonebook has more than {n} entries</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/phonebook.py" line="41"/>
        <source>each entry needs a host</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/phonebook.py" line="41"/>
        <source>text, or an object with host, label, region</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/phonebook.py" line="44"/>
        <source>unknown field</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/phonebook.py" line="47"/>
        <source>label and region must be text of at most 100 characters</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/phonebook.py" line="63"/>
        <source>the file is larger than {n} bytes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/phonebook.py" line="66"/>
        <source>cannot read the file ({why})</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/phonebook.py" line="70"/>
        <source>the file is not a JSON phonebook</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/sessions.py" line="116"/>
        <source>VPN service is back</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/sessions.py" line="116"/>
        <source>You can connect again.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/sessions.py" line="122"/>
        <source>the VPN service stopped: {reason}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/sessions.py" line="127"/>
        <location filename="../../wizard/gui/flow/sessions.py" line="247"/>
        <source>{name} disconnected</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/sessions.py" line="128"/>
        <source>The VPN service stopped.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/sessions.py" line="136"/>
        <source>VPN service unavailable</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/sessions.py" line="149"/>
        <location filename="../../wizard/gui/flow/sessions.py" line="305"/>
        <source>connecting</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/sessions.py" line="163"/>
        <source>could not connect: {reason}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/sessions.py" line="164"/>
        <location filename="../../wizard/gui/flow/sessions.py" line="250"/>
        <source>Could not connect {name}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/sessions.py" line="170"/>
        <source>disconnecting</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/sessions.py" line="192"/>
        <source>problem: {reason}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/sessions.py" line="223"/>
        <source>Your address is {address}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/sessions.py" line="225"/>
        <source>{name} reconnected</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/sessions.py" line="227"/>
        <source>Connected to {name}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/sessions.py" line="233"/>
        <source>{name}: connection lost</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/sessions.py" line="237"/>
        <source>{name} failed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/sessions.py" line="302"/>
        <source>connected for {uptime}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/sessions.py" line="305"/>
        <source>reconnecting</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/sessions.py" line="308"/>
        <source>connecting…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/sessions.py" line="310"/>
        <source>disconnecting…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/sessions.py" line="312"/>
        <source>failed; the kill switch is blocking traffic</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/sessions.py" line="315"/>
        <source>last attempt failed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/sessions.py" line="316"/>
        <source>last attempt failed: {reason}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/sessions.py" line="317"/>
        <source>not connected</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/sessions.py" line="339"/>
        <source>Connect</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/sessions.py" line="341"/>
        <source>Disconnect</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/sessions.py" line="343"/>
        <source>Disconnect and unblock traffic</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/sessions.py" line="345"/>
        <source>Cancel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/sessions.py" line="352"/>
        <source>Connection Wizard</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/sessions.py" line="354"/>
        <source>not reachable</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/sessions.py" line="365"/>
        <source>  address {address}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/sessions.py" line="367"/>
        <source>  in {received}, out {sent}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/sessions.py" line="389"/>
        <source>{reason}. Reconnecting…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/flow/sessions.py" line="390"/>
        <source>Reconnecting…</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>AppController</name>
    <message>
        <location filename="../../wizard/gui/controller.py" line="125"/>
        <location filename="../../wizard/gui/controller.py" line="155"/>
        <source>cancelled</source>
        <extracomment>``ask(profile, missing secrets, ask for user name, done)``; ``done(None, &quot;&quot;)`` means cancelled.</extracomment>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/controller.py" line="235"/>
        <source>could not disconnect: {why}</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ConnectionsWindow</name>
    <message>
        <location filename="../../wizard/gui/connections.py" line="82"/>
        <source>Connections — Connection Wizard</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/connections.py" line="93"/>
        <source>Connections</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/connections.py" line="116"/>
        <source>Actions</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/connections.py" line="123"/>
        <source>&amp;New…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/connections.py" line="124"/>
        <source>&amp;Import…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/connections.py" line="125"/>
        <source>&amp;Edit…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/connections.py" line="126"/>
        <source>D&amp;uplicate</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/connections.py" line="127"/>
        <source>&amp;Delete</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/connections.py" line="128"/>
        <source>E&amp;xport…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/connections.py" line="129"/>
        <source>&amp;Copy diagnostics</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/connections.py" line="138"/>
        <source>Copy a report for your support team (passwords, keys and your user name are removed)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/connections.py" line="150"/>
        <source>&amp;Try again</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/connections.py" line="162"/>
        <source>No connections yet.
Create one, or drop a connection file from your administrator here.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/connections.py" line="165"/>
        <source>&amp;New connection…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/connections.py" line="209"/>
        <source>Address:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/connections.py" line="210"/>
        <source>Received:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/connections.py" line="211"/>
        <source>Sent:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/connections.py" line="212"/>
        <source>Speed:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/connections.py" line="213"/>
        <source>Connected for:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/connections.py" line="226"/>
        <source>&amp;Status</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/connections.py" line="232"/>
        <source>Negotiated parameters</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/connections.py" line="233"/>
        <source>Parameter</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/connections.py" line="233"/>
        <source>Value</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/connections.py" line="241"/>
        <source>Connection settings</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/connections.py" line="244"/>
        <source>&amp;Parameters</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/connections.py" line="249"/>
        <source>Session log</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/connections.py" line="251"/>
        <source>&amp;Log</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/connections.py" line="276"/>
        <source>The VPN service is unavailable: {reason} Connecting is not possible until it is back.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/connections.py" line="323"/>
        <source>⚠ Weak security: {what}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/connections.py" line="326"/>
        <source> (traffic is blocked until you disconnect)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/connections.py" line="328"/>
        <source>&amp;Connect</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/connections.py" line="329"/>
        <location filename="../../wizard/gui/connections.py" line="330"/>
        <source>&amp;Disconnect</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/connections.py" line="331"/>
        <location filename="../../wizard/gui/connections.py" line="332"/>
        <source>&amp;Cancel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/connections.py" line="334"/>
        <source>Please wait…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/connections.py" line="398"/>
        <source>Saved.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/connections.py" line="407"/>
        <source>{name} (copy)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/connections.py" line="415"/>
        <source>Duplicated as “{name}”. Saved passwords are not copied; you will be asked.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/connections.py" line="422"/>
        <source>Disconnect “{name}” before deleting it.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/connections.py" line="424"/>
        <source>Delete “{name}” and its saved passwords? This cannot be undone.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/connections.py" line="425"/>
        <source>Delete connection</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/connections.py" line="435"/>
        <source>Deleted “{name}”.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/connections.py" line="447"/>
        <source>Could not write {path}: {why}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/connections.py" line="449"/>
        <source>Exported to {path} (passwords and keys are never exported).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/connections.py" line="463"/>
        <source>Imported. You will be asked for the password when you connect.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/connections.py" line="471"/>
        <source>available ({server})</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/connections.py" line="473"/>
        <source>unavailable: {reason}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/connections.py" line="483"/>
        <source>Diagnostics copied to the clipboard (passwords, keys and your user name removed).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/connections.py" line="492"/>
        <source>Export connection</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>FilePicker</name>
    <message>
        <location filename="../../wizard/gui/widgets.py" line="34"/>
        <source>/path/to/file</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/widgets.py" line="35"/>
        <source>Browse…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/widgets.py" line="37"/>
        <source>Choose {what}</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>FlowPage</name>
    <message>
        <location filename="../../wizard/gui/pages/base.py" line="51"/>
        <source>To continue, fill in or correct: {fields}.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/base.py" line="83"/>
        <source>Problem with {field}</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>GatewayPage</name>
    <message>
        <location filename="../../wizard/gui/pages/gateway_page.py" line="36"/>
        <source>Where do you connect to?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/gateway_page.py" line="37"/>
        <source>The gateway is the server at your office, e.g. vpn.example.com.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/gateway_page.py" line="41"/>
        <source>Connection &amp;name:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/gateway_page.py" line="41"/>
        <source>e.g. Office</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/gateway_page.py" line="42"/>
        <source>&amp;Gateway:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/gateway_page.py" line="42"/>
        <source>host name or IP address</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/gateway_page.py" line="49"/>
        <source>Gateways from the phonebook</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/gateway_page.py" line="51"/>
        <source>Import p&amp;honebook…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/gateway_page.py" line="56"/>
        <source>Or &amp;pick:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/gateway_page.py" line="61"/>
        <source>If this gateway does not answer, &amp;try the others in the phonebook</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/gateway_page.py" line="66"/>
        <source>&amp;Check this gateway</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/gateway_page.py" line="69"/>
        <source>Checking a gateway (which protocols and algorithms it offers) needs the gateway probe, which is not part of this version yet.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/gateway_page.py" line="78"/>
        <source>(coming in a later version)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/gateway_page.py" line="97"/>
        <source>(no phonebook imported)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/gateway_page.py" line="114"/>
        <source>Import a phonebook</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/gateway_page.py" line="123"/>
        <source>Could not use {name}: {why}</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ImportDialog</name>
    <message>
        <location filename="../../wizard/gui/importing.py" line="59"/>
        <location filename="../../wizard/gui/importing.py" line="156"/>
        <source>Import a connection</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/importing.py" line="61"/>
        <source>From &lt;b&gt;{name}&lt;/b&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/importing.py" line="69"/>
        <source>What will be imported</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/importing.py" line="80"/>
        <source>Weak security: </source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/importing.py" line="89"/>
        <source>Name of the imported connection</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/importing.py" line="94"/>
        <source>&amp;Name:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/importing.py" line="99"/>
        <source>You already have a connection with this name, so the import gets a new one.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/importing.py" line="107"/>
        <source>&amp;Import</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/importing.py" line="124"/>
        <source>Use 1 to 100 characters without spaces at either end.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/importing.py" line="126"/>
        <source>You already have a connection called “{name}”.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>NewConnectionWizard</name>
    <message>
        <location filename="../../wizard/gui/new_connection.py" line="60"/>
        <source>Edit Connection</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/new_connection.py" line="60"/>
        <source>New Connection</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/new_connection.py" line="64"/>
        <source>&amp;Save</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/new_connection.py" line="64"/>
        <source>&amp;Create</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/new_connection.py" line="127"/>
        <source>The connection was saved, but {why}. You will be asked when you connect.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>OptionsPage</name>
    <message>
        <location filename="../../wizard/gui/pages/options_page.py" line="34"/>
        <source>Options</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/options_page.py" line="35"/>
        <source>The defaults suit most people; change them if your administrator says so.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/options_page.py" line="56"/>
        <source>Traffic</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/options_page.py" line="59"/>
        <source>Send &amp;all traffic through the VPN (safest on public Wi-Fi)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/options_page.py" line="60"/>
        <source>Send &amp;only the networks below through the VPN (split tunnel)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/options_page.py" line="67"/>
        <source>&amp;Networks:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/options_page.py" line="67"/>
        <source>e.g. 10.0.0.0/8, 192.168.50.0/24</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/options_page.py" line="68"/>
        <source>Also use networks the &amp;gateway announces</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/options_page.py" line="75"/>
        <source>Name lookups (DNS)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/options_page.py" line="77"/>
        <source>Use the DNS servers the gateway &amp;sends</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/options_page.py" line="81"/>
        <source>&amp;DNS servers:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/options_page.py" line="81"/>
        <source>optional, e.g. 10.0.0.53</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/options_page.py" line="82"/>
        <source>Only for &amp;domains:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/options_page.py" line="82"/>
        <source>optional, e.g. corp.example.com</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/options_page.py" line="86"/>
        <source>When the connection drops</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/options_page.py" line="88"/>
        <source>&amp;Reconnect automatically</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/options_page.py" line="94"/>
        <source>never give up</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/options_page.py" line="99"/>
        <source>&amp;Give up after (attempts):</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/options_page.py" line="101"/>
        <source>&amp;Block all traffic outside the VPN (kill switch)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/options_page.py" line="103"/>
        <source>…but still allow the &amp;local network (printers, file servers)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/options_page.py" line="111"/>
        <source>With the kill switch on, nothing leaves this computer outside the VPN while the connection is up or reconnecting, and after a failure until you disconnect.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/options_page.py" line="121"/>
        <source>Security</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/options_page.py" line="130"/>
        <source>&amp;Encryption:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/options_page.py" line="133"/>
        <source>MPPE uses RC4, which is weak: treat PPTP and L2TP without IPsec as not private.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/options_page.py" line="136"/>
        <source>&amp;IKE proposals:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/options_page.py" line="137"/>
        <source>ES&amp;P proposals:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/options_page.py" line="138"/>
        <source>Allow &amp;legacy algorithms (DES, 3DES, MD5, small Diffie-Hellman groups)</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>SecretPrompt</name>
    <message>
        <location filename="../../wizard/gui/secret_prompt.py" line="21"/>
        <source>Connect {name}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/secret_prompt.py" line="23"/>
        <source>{name} needs these to connect. They are sent to the VPN service only and not saved.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/secret_prompt.py" line="32"/>
        <source>&amp;User name:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/secret_prompt.py" line="42"/>
        <source>&amp;Connect</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>SignInPage</name>
    <message>
        <location filename="../../wizard/gui/pages/signin_page.py" line="39"/>
        <source>How do you sign in?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/signin_page.py" line="40"/>
        <source>Use the account and keys your administrator gave you.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/signin_page.py" line="44"/>
        <source>&amp;User name:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/signin_page.py" line="44"/>
        <location filename="../../wizard/gui/pages/signin_page.py" line="171"/>
        <source>e.g. alice</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/signin_page.py" line="46"/>
        <source>This computer proves itself with</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/signin_page.py" line="51"/>
        <source>a &amp;pre-shared key (a password shared by everyone)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/signin_page.py" line="52"/>
        <source>a &amp;certificate file</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/signin_page.py" line="59"/>
        <source>a smart card (coming in a later version)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/signin_page.py" line="68"/>
        <location filename="../../wizard/gui/pages/signin_page.py" line="181"/>
        <source>Pass&amp;word:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/signin_page.py" line="69"/>
        <source>Pre-shared &amp;key:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/signin_page.py" line="73"/>
        <source>Cer&amp;tificate:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/signin_page.py" line="74"/>
        <source>Private key (if separate):</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/signin_page.py" line="75"/>
        <source>Gateway&apos;s CA (optional):</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/signin_page.py" line="76"/>
        <source>The private key is protected by a passphrase</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/signin_page.py" line="83"/>
        <source>Key pass&amp;phrase:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/signin_page.py" line="88"/>
        <source>What should be remembered?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/signin_page.py" line="95"/>
        <source>&amp;Save the user name, password and keys in the system keyring</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/signin_page.py" line="96"/>
        <source>Remember only the user &amp;name; ask for the password each time</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/signin_page.py" line="97"/>
        <source>Remember nothing; ask for &amp;everything each time</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/signin_page.py" line="149"/>
        <source>The keyring (GNOME Keyring or KWallet) keeps secrets encrypted and unlocks them when you log in. Secrets are never written to the connection file.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/signin_page.py" line="156"/>
        <source>No secure keyring is running, so nothing can be saved: you will be asked for the password each time you connect. Install and unlock GNOME Keyring or KWallet to save it.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/signin_page.py" line="171"/>
        <source>asked when you connect</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/signin_page.py" line="176"/>
        <source>leave empty to keep the saved {what}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/signin_page.py" line="178"/>
        <source>asked when you connect (optional now)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/signin_page.py" line="181"/>
        <source>XAUTH pass&amp;word:</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>StatusWindow</name>
    <message>
        <location filename="../../wizard/gui/tray.py" line="154"/>
        <source>Connection Wizard</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/tray.py" line="159"/>
        <source>Overall state</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/tray.py" line="174"/>
        <source>&amp;New connection…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/tray.py" line="175"/>
        <source>&amp;Open connections…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/tray.py" line="176"/>
        <source>&amp;Quit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/tray.py" line="220"/>
        <source>Wait…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/tray.py" line="232"/>
        <source>No connections yet. Create one with “New connection…”.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>SummaryPage</name>
    <message>
        <location filename="../../wizard/gui/pages/summary_page.py" line="22"/>
        <source>Ready to save</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/summary_page.py" line="22"/>
        <source>Ready to create</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/summary_page.py" line="23"/>
        <source>Check the details. You can change everything later.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/summary_page.py" line="29"/>
        <source>Summary of the connection</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/summary_page.py" line="34"/>
        <source>&amp;Connect now</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/summary_page.py" line="55"/>
        <source>  Secrets:     none</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/summary_page.py" line="57"/>
        <source>  Secrets:     {names}: saved in the system keyring</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/summary_page.py" line="58"/>
        <source>  Secrets:     {names}: asked each time you connect (not saved)</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ThroughputGraph</name>
    <message>
        <location filename="../../wizard/gui/graph.py" line="22"/>
        <source>Throughput graph</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/graph.py" line="33"/>
        <source>Receiving {received}, sending {sent}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/graph.py" line="66"/>
        <source>No traffic to show (not connected)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/graph.py" line="72"/>
        <source>↓ in {rate}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/graph.py" line="76"/>
        <source>↑ out {rate}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/graph.py" line="78"/>
        <source>max {rate}</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>TrayMenu</name>
    <message>
        <location filename="../../wizard/gui/tray.py" line="73"/>
        <location filename="../../wizard/gui/tray.py" line="129"/>
        <source>not connected</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/tray.py" line="74"/>
        <source>connecting…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/tray.py" line="75"/>
        <source>connected</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/tray.py" line="76"/>
        <source>needs attention</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/tray.py" line="91"/>
        <source>Connection Wizard: {state}</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/tray.py" line="93"/>
        <source>VPN service unavailable</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/tray.py" line="108"/>
        <source>No connections yet</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/tray.py" line="113"/>
        <source>&amp;New connection…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/tray.py" line="116"/>
        <source>&amp;Open connections…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/tray.py" line="120"/>
        <source>&amp;Quit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/tray.py" line="129"/>
        <source>Connect {name}</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>TypePage</name>
    <message>
        <location filename="../../wizard/gui/pages/type_page.py" line="24"/>
        <source>What kind of connection?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/type_page.py" line="26"/>
        <source>Ask your administrator if you are not sure. L2TP/IPsec works with most Windows servers.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/type_page.py" line="55"/>
        <source>Got a connection file from your administrator? Drop it here, or import it:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../../wizard/gui/pages/type_page.py" line="57"/>
        <source>&amp;Import a file…</source>
        <translation type="unfinished"></translation>
    </message>
</context>
</TS>
