"""Prints the requirements of litellm's [proxy] extra, one per line, with the pins that name
releases PyPI does not have relaxed to the release series they belong to.

litellm 1.108.14's extra pins litellm-proxy-extras==0.4.110.post1 and
litellm-enterprise==0.1.79.post3; neither release exists (0.4.110 and 0.1.79.post1 do), so
`pip install "litellm[proxy]==1.108.14"` cannot resolve. Run with the venv's python after
`pip install litellm==1.108.14`."""
import re
from importlib.metadata import requires

RELAX = {
    "litellm-proxy-extras": "litellm-proxy-extras>=0.4.110,<0.4.111",
    "litellm-enterprise": "litellm-enterprise>=0.1.79,<0.1.80",
}

for req in requires("litellm") or []:
    spec, _, marker = req.partition(";")
    if not re.search(r"extra\s*==\s*['\"]proxy['\"]", marker):
        continue
    rest = re.sub(r"(and\s+)?extra\s*==\s*['\"]proxy['\"]", "", marker).strip()
    rest = re.sub(r"\s+and\s*$", "", rest).strip()
    name = re.split(r"[\s<>=!~\[]", spec.strip(), maxsplit=1)[0]
    spec = RELAX.get(name, spec.strip())
    print(f"{spec} ; {rest}" if rest else spec)
