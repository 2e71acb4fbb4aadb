"""Windows pipeline: EVTX rendered as JSON (``Event.System.*``, ``Event.EventData.*``).

This is what the EVTX-to-JSON converters write and what SigmaHQ's regression data
holds. Sysmon log-source categories become a condition on the Sysmon channel and its
event ids; services become a condition on their channel. Other Windows log sources
(Security 4688 as ``process_creation``, ETW-only categories...) are reported as
unsupported rather than matched loosely.
"""

from __future__ import annotations

from typing import Final

from sigma.processing.conditions import LogsourceCondition
from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations import (
    AddConditionTransformation,
    FieldFunctionTransformation,
)
from sigma.rule import SigmaLogSource

from rempart.detection.pipelines.base import Pipeline

SYSMON_CHANNEL: Final = "Microsoft-Windows-Sysmon/Operational"
POWERSHELL_CHANNEL: Final = "Microsoft-Windows-PowerShell/Operational"
POWERSHELL_CLASSIC_CHANNEL: Final = "Windows PowerShell"

# category -> (channel, event ids)
CATEGORIES: Final[dict[str, tuple[str, tuple[int, ...]]]] = {
    "process_creation": (SYSMON_CHANNEL, (1,)),
    "file_change": (SYSMON_CHANNEL, (2,)),
    "network_connection": (SYSMON_CHANNEL, (3,)),
    "sysmon_status": (SYSMON_CHANNEL, (4, 16)),
    "process_termination": (SYSMON_CHANNEL, (5,)),
    "driver_load": (SYSMON_CHANNEL, (6,)),
    "image_load": (SYSMON_CHANNEL, (7,)),
    "create_remote_thread": (SYSMON_CHANNEL, (8,)),
    "raw_access_thread": (SYSMON_CHANNEL, (9,)),
    "process_access": (SYSMON_CHANNEL, (10,)),
    "file_event": (SYSMON_CHANNEL, (11,)),
    "registry_add": (SYSMON_CHANNEL, (12,)),
    "registry_delete": (SYSMON_CHANNEL, (12,)),
    "registry_set": (SYSMON_CHANNEL, (13,)),
    "registry_rename": (SYSMON_CHANNEL, (14,)),
    "registry_event": (SYSMON_CHANNEL, (12, 13, 14)),
    "create_stream_hash": (SYSMON_CHANNEL, (15,)),
    "pipe_created": (SYSMON_CHANNEL, (17, 18)),
    "wmi_event": (SYSMON_CHANNEL, (19, 20, 21)),
    "dns_query": (SYSMON_CHANNEL, (22,)),
    "file_delete": (SYSMON_CHANNEL, (23, 26)),
    "clipboard_capture": (SYSMON_CHANNEL, (24,)),
    "process_tampering": (SYSMON_CHANNEL, (25,)),
    "file_block_executable": (SYSMON_CHANNEL, (27,)),
    "file_block_shredding": (SYSMON_CHANNEL, (28,)),
    "file_executable_detected": (SYSMON_CHANNEL, (29,)),
    "sysmon_error": (SYSMON_CHANNEL, (255,)),
    "ps_module": (POWERSHELL_CHANNEL, (4103,)),
    "ps_script": (POWERSHELL_CHANNEL, (4104,)),
    "ps_classic_start": (POWERSHELL_CLASSIC_CHANNEL, (400,)),
    "ps_classic_provider_start": (POWERSHELL_CLASSIC_CHANNEL, (600,)),
    "ps_classic_script": (POWERSHELL_CLASSIC_CHANNEL, (800,)),
}

SERVICES: Final[dict[str, tuple[str, ...]]] = {
    "security": ("Security",),
    "system": ("System",),
    "application": ("Application",),
    "sysmon": (SYSMON_CHANNEL,),
    "powershell": (POWERSHELL_CHANNEL,),
    "powershell-classic": (POWERSHELL_CLASSIC_CHANNEL,),
    "taskscheduler": ("Microsoft-Windows-TaskScheduler/Operational",),
    "wmi": ("Microsoft-Windows-WMI-Activity/Operational",),
    "dns-server": ("DNS Server",),
    "dns-client": ("Microsoft-Windows-DNS Client Events/Operational",),
    "driver-framework": ("Microsoft-Windows-DriverFrameworks-UserMode/Operational",),
    "ntlm": ("Microsoft-Windows-NTLM/Operational",),
    "dhcp": ("Microsoft-Windows-DHCP-Server/Operational",),
    "applocker": (
        "Microsoft-Windows-AppLocker/MSI and Script",
        "Microsoft-Windows-AppLocker/EXE and DLL",
        "Microsoft-Windows-AppLocker/Packaged app-Deployment",
        "Microsoft-Windows-AppLocker/Packaged app-Execution",
    ),
    "msexchange-management": ("MSExchange Management",),
    "printservice-admin": ("Microsoft-Windows-PrintService/Admin",),
    "printservice-operational": ("Microsoft-Windows-PrintService/Operational",),
    "codeintegrity-operational": ("Microsoft-Windows-CodeIntegrity/Operational",),
    "smbclient-security": ("Microsoft-Windows-SmbClient/Security",),
    "smbserver-connectivity": ("Microsoft-Windows-SMBServer/Connectivity",),
    "firewall-as": ("Microsoft-Windows-Windows Firewall With Advanced Security/Firewall",),
    "bits-client": ("Microsoft-Windows-Bits-Client/Operational",),
    "windefend": ("Microsoft-Windows-Windows Defender/Operational",),
    "terminalservices-localsessionmanager": (
        "Microsoft-Windows-TerminalServices-LocalSessionManager/Operational",
    ),
    "appxdeployment-server": ("Microsoft-Windows-AppXDeploymentServer/Operational",),
    "appxpackaging-om": ("Microsoft-Windows-AppxPackaging/Operational",),
    "appmodel-runtime": ("Microsoft-Windows-AppModel-Runtime/Admin",),
    "security-mitigations": (
        "Microsoft-Windows-Security-Mitigations/Kernel Mode",
        "Microsoft-Windows-Security-Mitigations/User Mode",
    ),
    "diagnosis-scripted": ("Microsoft-Windows-Diagnosis-Scripted/Operational",),
    "shell-core": ("Microsoft-Windows-Shell-Core/Operational",),
    "openssh": ("OpenSSH/Operational",),
    "ldap": ("Microsoft-Windows-LDAP-Client/Debug",),
    "bitlocker": ("Microsoft-Windows-BitLocker/BitLocker Management",),
    "vhdmp": ("Microsoft-Windows-VHDMP/Operational",),
    "capi2": ("Microsoft-Windows-CAPI2/Operational",),
    "certificateservicesclient-lifecycle-system": (
        "Microsoft-Windows-CertificateServicesClient-Lifecycle-System/Operational",
    ),
    "lsa-server": ("Microsoft-Windows-LSA/Operational",),
    "kernel-shimengine": ("Microsoft-Windows-Kernel-ShimEngine/Operational",),
    "iis-configuration": ("Microsoft-IIS-Configuration/Operational",),
    "hyper-v-worker": ("Microsoft-Windows-Hyper-V-Worker-Admin",),
}

# Sigma field name -> path in the EVTX JSON; every other field is in Event.EventData.
SYSTEM_FIELDS: Final[dict[str | None, str | list[str]]] = {
    "EventID": "Event.System.EventID",
    "Channel": "Event.System.Channel",
    "Computer": "Event.System.Computer",
    "Level": "Event.System.Level",
    "Task": "Event.System.Task",
    "Opcode": "Event.System.Opcode",
    "Keywords": "Event.System.Keywords",
    "EventRecordID": "Event.System.EventRecordID",
    "Provider_Name": "Event.System.Provider.#attributes.Name",
    "Provider": "Event.System.Provider.#attributes.Name",
    "ProcessID": "Event.System.Execution.#attributes.ProcessID",
    "ThreadID": "Event.System.Execution.#attributes.ThreadID",
    "SecurityUserID": "Event.System.Security.#attributes.UserID",
    "TimeCreated": "Event.System.TimeCreated.#attributes.SystemTime",
}
TIMESTAMP_FIELD: Final = "Event.System.TimeCreated.#attributes.SystemTime"


def _event_data(field: str | None) -> str:
    return f"Event.EventData.{field}"


def build() -> ProcessingPipeline:
    items: list[ProcessingItem] = []
    for category, (channel, ids) in CATEGORIES.items():
        items.append(
            ProcessingItem(
                AddConditionTransformation(
                    {"EventID": [str(i) for i in ids], "Channel": channel},
                    name=f"_logsource_{category}",
                ),
                identifier=f"windows_logsource_{category}",
                rule_conditions=[LogsourceCondition(product="windows", category=category)],
            )
        )
    for service, channels in SERVICES.items():
        items.append(
            ProcessingItem(
                AddConditionTransformation(
                    {"Channel": list(channels) if len(channels) > 1 else channels[0]},
                    name=f"_logsource_{service.replace('-', '_')}",
                ),
                identifier=f"windows_logsource_{service}",
                rule_conditions=[LogsourceCondition(product="windows", service=service)],
            )
        )
    items.append(
        ProcessingItem(
            FieldFunctionTransformation(mapping=SYSTEM_FIELDS, transform_func=_event_data),
            identifier="windows_evtx_json_fields",
        )
    )
    return ProcessingPipeline(name="Rempart Windows EVTX-as-JSON", priority=20, items=items)


def unsupported(logsource: SigmaLogSource) -> str | None:
    if logsource.product != "windows":
        return f"log source product {logsource.product!r} is not Windows"
    if logsource.category is not None and logsource.category not in CATEGORIES:
        return f"Windows category {logsource.category!r} has no EVTX mapping"
    if logsource.service is not None and logsource.service not in SERVICES:
        return f"Windows service {logsource.service!r} has no channel mapping"
    if logsource.category is None and logsource.service is None:
        return "Windows log source without category or service"
    return None


WINDOWS = Pipeline(
    name="windows",
    build=build,
    unsupported=unsupported,
    timestamp_fields=(TIMESTAMP_FIELD,),
    # Events such as WMI-Activity 5858 keep their data under UserData/<element>/.
    fallbacks={"Event.EventData.": ("Event.UserData.*.",)},
    description="EVTX as JSON: Event.System.*, Event.EventData.*, Sysmon ids as categories",
)

__all__ = ["CATEGORIES", "SERVICES", "SYSTEM_FIELDS", "WINDOWS", "build", "unsupported"]
