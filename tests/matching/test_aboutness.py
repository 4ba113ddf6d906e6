"""What a paper is about, and what it only mentions: phrases with words inside (ranked
below the phrase itself), a title's head alone, background and negated mentions,
and the senses an acronym has (an address, code, a chemical formula, another long form)."""

from digest.matching import Document, PaperIndex, match_papers


def found(interest: str, *documents: Document) -> list[str]:
    return sorted(result.document_id for result in match_papers([interest], documents))


def test_a_phrase_matches_with_modifier_words_inside_it():
    documents = [
        Document("inside", "Diffusion recommendation models for retail"),
        Document("compound", "A diffusion-based translation model"),
        Document("agents", "LLM-based multi-agent systems for planning"),
        Document("federated", "Federated graph learning with personalization"),
        Document("function-word", "Models of diffusion in porous media"),
        Document("verb", "Diffusion improves models of heat"),
        Document("too-far", "Diffusion of heat and light in large language models"),
    ]
    assert found("diffusion models", *documents) == ["compound", "inside"]
    assert found("LLM agents", *documents) == ["agents"]
    assert found("federated learning", *documents) == ["federated"]


def test_a_phrase_with_words_inside_ranks_below_the_phrase_itself():
    documents = [
        Document("a-inside", "Diffusion recommendation models"),
        Document("b-exact", "Diffusion models for text"),
    ]
    results = match_papers(["diffusion models"], documents)

    assert [r.document_id for r in results] == ["b-exact", "a-inside"]
    assert results[0].score > results[1].score
    # The reason shows the words that matched, those inside included.
    assert results[1].reasons[0].matched == ("Diffusion recommendation models",)
    index = PaperIndex(documents)
    assert index.match(["diffusion models"]).results == results


def test_a_titles_head_alone_counts_where_the_ending_says_nothing():
    documents = [
        Document("title", "Gated Attention for Long Contexts", "We gate attention."),
        Document("abstract-only", "Long contexts", "We look at attention once."),
        Document("neutrinos", "Light sterile neutrinos", "A review of neutrino anomalies."),
    ]
    assert found("attention mechanisms", *documents) == ["title"]
    assert found("neutrino physics", *documents) == ["neutrinos"]
    # "method" is not such an ending: "kernel methods" is not every kernel.
    assert found("kernel methods", Document("gpu", "A fused GPU kernel for attention")) == []


def test_a_titles_head_alone_does_not_count_as_a_means_a_name_or_unconfirmed():
    documents = [
        # The abstract never says it: human visual attention, eye movements.
        Document("unconfirmed", "Feature influences on visual attention", "We track eyes."),
        Document("means", "Data-efficient transformers & distillation through attention",
                 "A student learns from the teacher through attention."),
        Document("name", "A Graph Attention Network for traffic risk",
                 "Dedicated attention pathways fuse lanes."),
        Document("topic", "Hybrid Attention Models", "We replace attention layers."),
    ]  # fmt: skip
    assert found("attention mechanisms", *documents) == ["topic"]


def test_one_background_sentence_does_not_make_a_paper_about_it():
    background = Document(
        "background",
        "A catalogue of faint dwarf galaxies",
        "Faint galaxies are fundamental to our understanding of dark matter and galaxy "
        "formation. We present a catalogue of 43,000 dwarf galaxies. It is public.",
    )
    example = Document(
        "example",
        "Software for time-domain follow-up",
        "We present new follow-up software. Many discoveries need fast response, for "
        "example, kilonovae accompanying gravitational waves. It runs at two observatories.",
    )
    about = Document(
        "about",
        "Dwarf galaxy dynamics",
        "We simulate stars and dark matter. The dark matter halo contracts.",
    )
    opening = Document(
        "opening",
        "Galactic binaries for LISA",
        "LISA will open the gravitational-wave sky. Sources are many. Others follow.",
    )
    assert found("dark matter", background, about) == ["about"]
    assert found("gravitational waves", example, opening) == ["opening"]


def test_negated_mentions_do_not_count():
    documents = [
        Document("without", "Alignment", "We align models without reinforcement learning."),
        Document("no", "Alignment", "Our method requires no RL. It is simple."),
        Document("not", "Alignment", "This approach does not require RL at all."),
        Document("free", "RL-free alignment", "A method."),
        Document("uses", "Alignment", "We train the policy with reinforcement learning."),
        Document("not-only", "Alignment", "We use not only RL but also search."),
    ]
    assert found("reinforcement learning", *documents) == ["not-only", "uses"]


def test_an_acronym_in_an_address_or_identifier_is_no_mention():
    documents = [
        Document("url", "Agents", "We train agents. Code: https://github.com/NJU-RL/agents."),
        Document("mail", "Agents", "We train agents. Contact rl@lab.example.org today."),
        Document("code", "Agents", "We train agents. Call train_RL_agent to start."),
        Document("text", "Agents", "We train agents with RL."),
    ]
    assert found("RL", *documents) == ["text"]


def test_capitals_decide_the_sense_gan_is_not_gallium_nitride():
    documents = [
        Document("gan", "A GAN for faces", "We train GANs."),
        Document("gallium", "A GaN Doherty power amplifier", "GaN transistors at 3.5 GHz."),
    ]
    assert found("GAN", *documents) == ["gan"]
    assert found("generative adversarial networks", *documents) == ["gan"]


def test_an_acronym_the_paper_uses_in_another_sense_is_not_the_known_concept():
    attack = Document(
        "attack",
        "Jailbreaking speech models",
        "We attack audio models. The attack success rate reaches 90%. ASR drops with defences.",
    )
    speech = Document("speech", "Streaming ASR", "We improve ASR on long audio.")
    assert found("speech recognition", attack, speech) == ["speech"]


def test_a_noun_inside_a_task_makes_it_another_task():
    documents = [
        Document("emotion", "Curricula for speech emotion recognition", "We label emotions."),
        Document("speech", "Robust speech recognition", "We transcribe speech."),
    ]
    assert found("speech recognition", *documents) == ["speech"]
    augmented = Document("code", "Retrieval-augmented code generation", "We write code.")
    assert found("retrieval-augmented generation", augmented) == ["code"]
    data = Document("data", "Agentic image data generation", "We generate image data.")
    assert found("image generation", data) == ["data"]


def test_a_phenomenons_adjective_before_a_device_names_the_device():
    documents = [
        Document(
            "hardware",
            "Quantum phase recognition",
            "We train a classifier with superconducting quantum hardware in the loop.",
        ),
        Document(
            "processors",
            "Noise benchmarking",
            "We run the protocol on superconducting quantum processing units.",
        ),
        Document("gap", "Pairing in a semimetal", "We find a superconducting gap of 1 meV."),
    ]
    assert found("superconductivity", *documents) == ["gap"]
    computing = Document("qc", "Qubits", "We build quantum computing hardware.")
    assert found("quantum computing", computing) == ["qc"]
    assert found("quantum computation", computing) == ["qc"]


def test_what_the_work_is_compared_with_is_not_what_it_does():
    compared = Document(
        "compared",
        "Sparse autoencoders, again",
        "We propose a hybrid autoencoder. We exceed the performance of VAEs, as well as "
        "recent diffusion models where applicable.",
    )
    uses = Document("uses", "Editing images", "We propose an editor built on diffusion models.")
    ours = Document(
        "ours", "Editing images", "Compared with GANs, our editor uses diffusion models."
    )
    assert found("diffusion models", compared, uses, ours) == ["ours", "uses"]
    defence = Document(
        "defence", "Guarding models", "We propose a defence against jailbreak attacks."
    )
    assert found("jailbreak attacks", defence) == ["defence"]


def test_an_opening_sentence_counts_at_its_start_not_deep_in_it_or_reporting_others():
    documents = [
        Document(
            "deep",
            "Economic simulation with LLM agents",
            "Within the domain of online game economy research, agent-based modeling has "
            "emerged as a robust tool for analyzing game economics, evolving from rule-based "
            "agents to decision-making agents enhanced by reinforcement learning. It is old.",
        ),
        Document(
            "reported",
            "Cryptographic limits of transformers",
            "In recent work it has been shown that agents trained by reinforcement learning "
            "collude. Transformers can implement ciphers.",
        ),
        Document(
            "start",
            "Robot control",
            "Reinforcement learning for robots is sample hungry. A new buffer helps.",
        ),
    ]
    assert found("reinforcement learning", *documents) == ["start"]


def test_a_code_whose_states_of_matter_are_studied_is_not_error_correction():
    documents = [
        Document(
            "phase",
            "Recognizing topological phases",
            "We show that the network distinguishes the topological phase of the surface "
            "code from product states.",
        ),
        Document(
            "code",
            "Decoding",
            "We propose a fast decoder for the surface code at circuit-level noise.",
        ),
    ]
    assert found("quantum error correction", *documents) == ["code"]


def test_a_formula_glued_to_an_acronym_makes_another_name():
    documents = [
        Document("lcdm", "Inference", "We implement the $\\Lambda$CDM and $w$CDM models."),
        Document("cdm", "Halos", "We simulate CDM halos. The CDM halos are cuspy."),
    ]
    assert found("cold dark matter", *documents) == ["cdm"]


def test_the_works_own_sentence_said_by_its_name_or_in_the_passive_counts():
    named = Document(
        "named",
        "Mana: dexterous manipulation of tools",
        "Tools are hard to use. Mana trains its policies with reinforcement learning.",
    )
    named_later = Document(
        "named-later",
        "MoMa: efficient early-fusion pre-training",
        "Experts save compute. Combining MoMa with depth hurts reinforcement learning.",
    )
    passive = Document(
        "passive",
        "Multicast routing in 6G networks",
        "Routing is hard. A reinforcement learning algorithm is developed to build trees.",
    )
    reported = Document(
        "reported",
        "Multicast routing in 6G networks",
        "Routing is hard. A reinforcement learning algorithm was once tried. It is slow.",
    )
    assert found("reinforcement learning", named, named_later, passive, reported) == [
        "named",
        "passive",
    ]


def test_a_comma_before_a_clause_ends_no_list():
    clause = Document(
        "clause",
        "Memory for coding agents",
        "We train agents with GRPO, which optimizes memory and resolution jointly.",
    )
    listed = Document(
        "listed",
        "Memory for coding agents",
        "We compare imitation, GRPO, and search on long tasks.",
    )
    named = Document(
        "named",
        "Dynamics priors for robots",
        "Concretely, we pretrain a diffusion world model, A2World, on robot data.",
    )
    assert found("reinforcement learning", clause, listed) == ["clause"]
    assert found("diffusion models", named) == ["named"]


def test_excluding_video_generation_leaves_out_video_diffusion_models():
    video = Document(
        "video",
        "Physically plausible motion in video diffusion models",
        "We fine-tune video diffusion models for plausible motion.",
    )
    image = Document(
        "image",
        "Faster image diffusion models",
        "We distil image diffusion models into one step.",
    )
    assert found("diffusion models -video generation", video, image) == ["image"]


def test_agents_count_for_llm_agents_only_in_a_paper_on_language_models():
    llm_paper = (
        "Large language models now coordinate as teams. We study how errors spread "
        "between the agents of a multi-agent system. Runtime monitors stop the agents "
        "before a wrong answer propagates."
    )
    documents = [
        Document("llm-context", "Preventing error propagation in multi-agent AI", llm_paper),
        Document(
            "rl-context",
            "Cooperation in multi-agent reinforcement learning",
            "We train agents with policy gradients. The agents learn to share rewards.",
        ),
        Document(
            "one-passing-word",
            "Sparse attention for long contexts",
            "We make large language models faster on long inputs. Agents may benefit.",
        ),
        Document(
            "title",
            "Do agents know when to stop?",
            "We test when large language models should abstain from acting.",
        ),
        Document(
            "negated",
            "Reasoning without agents",
            "We show that large language models plan well without agents. No agents needed.",
        ),
    ]
    assert found("LLM agents", *documents) == ["llm-context", "title"]
    # the reason shows the words as written; the index agrees with the plain loop
    results = match_papers(["LLM agents"], documents)
    matched = {r.document_id: r.reasons[0].matched for r in results}
    assert matched["llm-context"] == ("agent", "agents")
    assert PaperIndex(documents).match(["LLM agents"]).results == results


def test_diffusion_alone_counts_for_diffusion_models_in_a_paper_on_generating_images():
    documents = [
        Document(
            "editing",
            "Towards real-time diffusion-based streaming image editing",
            "Image editing must keep what the user did not ask to change.",
        ),
        Document(
            "notes",
            "Notes on generative modeling: flow matching, diffusion and optimal transport",
            "These notes recall the principles behind techniques for generative modeling.",
        ),
        Document(
            "heat",
            "Anomalous diffusion in porous media",
            "We measure diffusion of tracers in rock. The diffusion is anomalous.",
        ),
        Document(
            "mri",
            "Denoising diffusion-weighted MRI of the brain",
            "Diffusion-weighted images are noisy. We denoise diffusion MRI scans.",
        ),
    ]
    assert found("diffusion models", *documents) == ["editing", "notes"]
    # A video editor generates the frames it changes: excluding video generation
    # leaves it out.
    video_editing = Document(
        "video-editing",
        "Diffusion-based streaming video editing",
        "Streaming video editing must keep what the user did not ask to change.",
    )
    assert found("diffusion models", video_editing) == ["video-editing"]
    assert found("diffusion models -video generation", video_editing) == []


def test_a_narrower_topic_named_twice_in_passing_is_background():
    in_passing = Document(
        "editing",
        "Geometry-aware object editing",
        "Moving objects in one photograph remains unsolved. "
        "Forcing proxies into the latent space disrupts variance, and the resulting "
        "self-attention leakage leads to ghosting. Because the injected signal matches "
        "the latent statistics, self-attention stays undisturbed.",
    )
    own_work = Document(
        "sparse",
        "Rethinking test-time scaling",
        "Cost grows with generation length. We propose a scaling paradigm centred on "
        "sparse attention. Sparse attention models outperform dense ones.",
    )
    # The phrase itself in two background sentences still counts, as before.
    the_phrase = Document(
        "phrase",
        "Geometry-aware object editing",
        "Attention mechanisms leak structure into the latent space. Because the signal "
        "matches the latent statistics, the attention mechanism stays undisturbed.",
    )
    assert found("attention mechanisms", in_passing, own_work, the_phrase) == [
        "phrase",
        "sparse",
    ]
